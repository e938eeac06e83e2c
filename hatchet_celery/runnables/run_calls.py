"""The typed faces of ``run``, ``aio_run``, ``run_no_wait``, ``aio_run_no_wait`` and of the
task decorators.

``BaseWorkflow`` implements them once (``_twins.parameters``); ``Workflow`` and
``Standalone`` declare here what a type checker sees, as Hatchet's SDK types them: the input
is the workflow's input type, ``run()`` returns the workflow's result (``dict`` for a
workflow, the task's output type for a standalone task), and ``wait_for_result=False``
returns the run's reference instead (an ``@overload`` on ``Literal`` values). Written once
here, the parameter list is not repeated per class.

The decorators (``@hatchet.task()``, ``@workflow.task()``...) take the task's output type
from the function's return annotation, awaited for an ``async def`` (two overloads: a
``R | Coroutine[..., R]`` union leaves mypy inferring ``Never`` for async functions).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

from typing_extensions import TypeVar

from hatchet_celery.clients.admin import TriggerWorkflowOptions
from hatchet_celery.labels import DesiredWorkerLabel

if TYPE_CHECKING:
    from hatchet_celery.runnables.task import Task
    from hatchet_celery.runnables.workflow import Standalone

TIn = TypeVar("TIn", contravariant=True)
TInput = TypeVar("TInput")
R = TypeVar("R")
TOut = TypeVar("TOut", covariant=True)
TRef = TypeVar("TRef", covariant=True)


class RunCall(Protocol[TIn, TOut, TRef]):
    @overload
    def __call__(
        self,
        input: TIn = ...,
        options: TriggerWorkflowOptions | None = None,
        wait_for_result: Literal[True] = True,
        child_key: str | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
        sticky: bool = False,
        desired_worker_id: str | None = None,
        desired_worker_labels: list[DesiredWorkerLabel] | None = None,
    ) -> TOut: ...

    @overload
    def __call__(
        self,
        input: TIn = ...,
        options: TriggerWorkflowOptions | None = None,
        *,
        wait_for_result: Literal[False],
        child_key: str | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
        sticky: bool = False,
        desired_worker_id: str | None = None,
        desired_worker_labels: list[DesiredWorkerLabel] | None = None,
    ) -> TRef: ...


class AioRunCall(Protocol[TIn, TOut, TRef]):
    @overload
    def __call__(
        self,
        input: TIn = ...,
        options: TriggerWorkflowOptions | None = None,
        wait_for_result: Literal[True] = True,
        child_key: str | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
        sticky: bool = False,
        desired_worker_id: str | None = None,
        desired_worker_labels: list[DesiredWorkerLabel] | None = None,
    ) -> Coroutine[Any, Any, TOut]: ...

    @overload
    def __call__(
        self,
        input: TIn = ...,
        options: TriggerWorkflowOptions | None = None,
        *,
        wait_for_result: Literal[False],
        child_key: str | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
        sticky: bool = False,
        desired_worker_id: str | None = None,
        desired_worker_labels: list[DesiredWorkerLabel] | None = None,
    ) -> Coroutine[Any, Any, TRef]: ...


class NoWaitCall(Protocol[TIn, TRef]):
    def __call__(
        self,
        input: TIn = ...,
        options: TriggerWorkflowOptions | None = None,
        child_key: str | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
        sticky: bool = False,
        desired_worker_id: str | None = None,
        desired_worker_labels: list[DesiredWorkerLabel] | None = None,
    ) -> TRef: ...


class AioNoWaitCall(Protocol[TIn, TRef]):
    def __call__(
        self,
        input: TIn = ...,
        options: TriggerWorkflowOptions | None = None,
        child_key: str | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
        sticky: bool = False,
        desired_worker_id: str | None = None,
        desired_worker_labels: list[DesiredWorkerLabel] | None = None,
    ) -> Coroutine[Any, Any, TRef]: ...


class StandaloneDecorator(Protocol[TInput]):
    """``@hatchet.task(...)`` / ``@hatchet.durable_task(...)``."""

    @overload
    def __call__(self, fn: Callable[..., Coroutine[Any, Any, R]], /) -> Standalone[TInput, R]: ...

    @overload
    def __call__(self, fn: Callable[..., R], /) -> Standalone[TInput, R]: ...


class TaskDecorator(Protocol[TInput]):
    """``@workflow.task(...)`` and the workflow's other task decorators."""

    @overload
    def __call__(self, fn: Callable[..., Coroutine[Any, Any, R]], /) -> Task[TInput, R]: ...

    @overload
    def __call__(self, fn: Callable[..., R], /) -> Task[TInput, R]: ...


__all__ = [
    "AioNoWaitCall",
    "AioRunCall",
    "NoWaitCall",
    "RunCall",
    "StandaloneDecorator",
    "TaskDecorator",
]
