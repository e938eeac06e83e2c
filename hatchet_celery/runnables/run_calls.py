"""The typed faces of ``run``, ``aio_run``, ``run_no_wait``, ``aio_run_no_wait`` and of the
task decorators.

Their parameters are dataclasses (``RunArgs``, ``TriggerArgs``) built from three parts,
``_Head`` (``input``, ``options``), ``wait_for_result`` and ``_Tail`` (the trigger
options), so each part is written once; ``_twins.takes`` turns a dataclass into a
method's parameters. A dataclass takes the fields of its bases from the last base to the
first: ``RunArgs(_Tail, _MayWait, _Head)`` puts ``wait_for_result`` third, as Hatchet does.

``BaseWorkflow`` implements the methods once; ``Workflow`` and ``Standalone`` declare here
what a type checker sees, as Hatchet's SDK types them: the input is the workflow's input
type, ``run()`` returns the workflow's result (``dict`` for a workflow, the task's output
type for a standalone task), and ``wait_for_result=False`` returns the run's reference
instead (an ``@overload`` on ``Literal`` values; in that overload the trigger options may
also be passed by position, where Hatchet's types want keywords). Written once here, the
parameter list is not repeated per class, nor for the ``aio_`` twins: their result and
reference types are the coroutines of the sync ones (``Awaiting[...]``).

The decorators (``@hatchet.task()``, ``@workflow.task()``...) take the task's output type
from the function's return annotation, awaited for an ``async def`` (two overloads: a
``R | Coroutine[..., R]`` union leaves mypy inferring ``Never`` for async functions).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, cast, overload

from typing_extensions import TypeVar

from hatchet_celery._twins import takes
from hatchet_celery.clients.admin import TriggerWorkflowOptions
from hatchet_celery.labels import DesiredWorkerLabel
from hatchet_celery.runnables.types import EmptyModel

if TYPE_CHECKING:
    from hatchet_celery.runnables.task import Task
    from hatchet_celery.runnables.workflow import Standalone

TIn = TypeVar("TIn", contravariant=True)
TInput = TypeVar("TInput")
TWorkflowInput = TypeVar("TWorkflowInput")  # the parameters' own (shown by inspect.signature)
R = TypeVar("R")
TOut = TypeVar("TOut", covariant=True)
TRef = TypeVar("TRef", covariant=True)


# What an ``aio_`` method returns: the coroutine of the sync method's result.
Awaiting = Coroutine[Any, Any, R]


@dataclass(frozen=True)
class _Head(Generic[TWorkflowInput]):
    input: TWorkflowInput = cast(Any, EmptyModel())
    options: TriggerWorkflowOptions | None = None


@dataclass(frozen=True)
class _Tail:
    child_key: str | None = None
    additional_metadata: dict[str, Any] | None = None
    priority: int | None = None
    sticky: bool = False
    desired_worker_id: str | None = None
    desired_worker_labels: list[DesiredWorkerLabel] | None = None


@dataclass(frozen=True)
class _MayWait:
    wait_for_result: bool = True


@dataclass(frozen=True)
class _Waits:
    wait_for_result: Literal[True] = True


@dataclass(frozen=True, kw_only=True)
class _Returns:
    wait_for_result: Literal[False]


@dataclass(frozen=True)
class TriggerArgs(_Tail, _Head[TWorkflowInput]):
    """The parameters of ``run_no_wait`` / ``aio_run_no_wait``."""


@dataclass(frozen=True)
class RunArgs(_Tail, _MayWait, _Head[TWorkflowInput]):
    """The parameters of ``run`` / ``aio_run``: ``wait_for_result`` third, as in Hatchet."""


@dataclass(frozen=True)
class _WaitingRun(_Tail, _Waits, _Head[TWorkflowInput]):
    """``run`` as typed when it waits for the result (the default)."""


@dataclass(frozen=True)
class _ReturningRun(_Tail, _Returns, _Head[TWorkflowInput]):
    """``run`` as typed with ``wait_for_result=False``: it returns the run's reference."""


class RunCall(Protocol[TIn, TOut, TRef]):
    @overload
    @takes(_WaitingRun[TIn])
    def __call__(self, args: _WaitingRun[TIn]) -> TOut: ...

    @overload
    @takes(_ReturningRun[TIn])
    def __call__(self, args: _ReturningRun[TIn]) -> TRef: ...


class NoWaitCall(Protocol[TIn, TRef]):
    @takes(TriggerArgs[TIn])
    def __call__(self, args: TriggerArgs[TIn]) -> TRef: ...


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
    "Awaiting",
    "NoWaitCall",
    "RunArgs",
    "RunCall",
    "StandaloneDecorator",
    "TaskDecorator",
    "TriggerArgs",
]
