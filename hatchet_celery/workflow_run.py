"""References to runs that were triggered: wait for their results, sync or async."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.runnables.workflow import Standalone

TWorkflowInput = TypeVar("TWorkflowInput")
R = TypeVar("R")


class WorkflowRunRef:
    """A workflow run by id; ``result()`` waits on the run's completion event (no polling)."""

    def __init__(self, workflow_run_id: str, registry: Registry) -> None:
        self._id = workflow_run_id
        self._registry = registry

    @property
    def workflow_run_id(self) -> str:
        return self._id

    def __str__(self) -> str:
        return self._id

    def __repr__(self) -> str:
        return f"WorkflowRunRef({self._id!r})"

    def result(self, poll_interval: float | None = None) -> dict[str, Any]:
        """``{task_name: output}``; raises ``FailedTaskRunExceptionGroup`` or, when the run
        was cancelled, ``RunCancelledError`` (a ``ValueError``, as in Hatchet)."""
        return self._registry.client().result(self._id, include_empty=True)

    async def aio_result(self) -> dict[str, Any]:
        """As ``result()`` but omits tasks without output, like Hatchet's async path."""
        return await self._registry.client().aio_result(self._id, include_empty=False)


class TaskRunRef(Generic[TWorkflowInput, R]):
    """The run of a standalone task: its results are the task's typed output."""

    def __init__(self, standalone: Standalone[TWorkflowInput, R], ref: WorkflowRunRef) -> None:
        self._standalone = standalone
        self._ref = ref
        self.workflow_run_id = ref.workflow_run_id

    def __str__(self) -> str:
        return self.workflow_run_id

    def __repr__(self) -> str:
        return f"TaskRunRef({self.workflow_run_id!r})"

    def result(self, poll_interval: float | None = None) -> R:
        return self._standalone._extract(self._ref.result())

    async def aio_result(self) -> R:
        return self._standalone._extract(await self._ref.aio_result())

    def stream(self) -> Any:
        return self._ref._registry.features().runs.subscribe_to_stream(self.workflow_run_id)


__all__ = ["TaskRunRef", "WorkflowRunRef"]
