"""The runtime side of ``context/runtime_port.TaskRuntime``: what a running task's
context may ask of the engine, so that ``context/`` imports nothing of ``_runtime``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hatchet_celery._runtime.core.process import PROCESS
from hatchet_celery._runtime.core.slots import SLOTS
from hatchet_celery._runtime.flow import affinity, batch
from hatchet_celery._runtime.ops import cancellation

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.context import Context
    from hatchet_celery.runnables.types import BatchTaskConfig


class TaskRuntimeServices:
    """One per engine; handed to every context the executor builds."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def cancel_task(self, run_id: str, task: str) -> None:
        cancellation.cancel_task(self.engine, run_id, task)

    def release_slot(self, ctx: Context) -> None:
        SLOTS.release(ctx)

    def upsert_worker_labels(self, worker_id: str, labels: dict[str, str | int]) -> None:
        """Change this worker's labels (its heartbeat record, which routing reads)."""
        if worker_id == PROCESS.worker_id:
            affinity.upsert_labels(self.engine, labels)

    async def run_batch(
        self, handler: Callable[..., Any], spec: BatchTaskConfig, input: Any, ctx: Context
    ) -> Any:
        return await batch.run_batch(handler, spec, input, ctx)
