"""What a running task's context asks of the runtime: the only door from ``context/`` and
``durable.py`` into the engine, so they import nothing of ``_runtime``.

The executor builds every context with a ``TaskRuntime`` (``_runtime/worker/task_runtime.py``)
and, for a durable task, a ``DurableSession`` (``_runtime/durable_waits.Session``); a
context made by ``mock_run`` has neither, and does what it can in place.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hatchet_celery.conditions import Condition, OrGroup
    from hatchet_celery.context.context import Context
    from hatchet_celery.durable import DurableContext
    from hatchet_celery.runnables.types import BatchTaskConfig


class EarlierSpawns(Protocol):
    """The child runs earlier executions of a durable task run spawned by index."""

    next_free: int

    def take(self, workflow: str, input_json: str) -> int | None: ...

    def fresh(self) -> int: ...


class TaskRuntime(Protocol):
    """Runtime services of a context."""

    def cancel_task(self, run_id: str, task: str) -> None: ...

    def release_slot(self, ctx: Context) -> None: ...

    def upsert_worker_labels(self, worker_id: str, labels: dict[str, str | int]) -> None: ...

    async def run_batch(
        self, handler: Callable[..., Any], spec: BatchTaskConfig, input: Any, ctx: Context
    ) -> Any: ...


class DurableSession(Protocol):
    """One execution of a durable task run: its checkpoints, memo and child spawns."""

    async def wait(
        self, ctx: DurableContext, items: tuple[Condition | OrGroup, ...]
    ) -> dict[str, Any]: ...

    async def memo_get(self, ctx: DurableContext, key: str) -> str | None: ...

    async def memo_put(self, ctx: DurableContext, key: str, value: str) -> str: ...

    async def earlier_children(self, ctx: DurableContext) -> EarlierSpawns: ...

    def awaiting(self, run_ids: list[str]) -> AbstractAsyncContextManager[None]: ...


__all__ = ["DurableSession", "EarlierSpawns", "TaskRuntime"]
