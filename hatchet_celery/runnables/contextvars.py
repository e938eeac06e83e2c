"""Hatchet's context variables of the running task (``hatchet_sdk.runnables.contextvars``).

Here every ``ctx_*`` value is read from the one context variable the executor sets
(``hatchet_celery.context.current_context``), so they cannot disagree with ``ctx``; each
offers ``get()`` as a ``ContextVar`` does. ``workflow_spawn_indices`` is the child spawn
counter per task execution (``ctx_action_key``): the index the next ``run()`` from that
task gets, which dedupes children on a durable replay.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from hatchet_celery.context.context import Context, current_context, workflow_spawn_indices
from hatchet_celery.durable import DurableContext

T = TypeVar("T")
ActionKey = str


class ContextView(Generic[T]):
    """A read-only ``ContextVar`` look-alike derived from the running task's ``Context``."""

    def __init__(self, name: str, read: Callable[[Context], T], default: T) -> None:
        self.name = name
        self._read = read
        self._default = default

    def get(self, default: Any = None) -> T:
        ctx = current_context.get()
        if ctx is None:
            return default if default is not None else self._default
        return self._read(ctx)

    def set(self, value: T) -> Any:
        raise TypeError(f"{self.name} is derived from the running task's context: read-only")

    def __repr__(self) -> str:
        return f"<ContextView {self.name}>"


def _durable(ctx: Context) -> Any:
    return ctx if isinstance(ctx, DurableContext) else None


ctx_workflow_run_id: ContextView[str | None] = ContextView(
    "ctx_workflow_run_id", lambda c: c.workflow_run_id, None
)
ctx_action_key: ContextView[ActionKey | None] = ContextView(
    "ctx_action_key", lambda c: c.action_key, None
)
ctx_step_run_id: ContextView[str | None] = ContextView(
    "ctx_step_run_id", lambda c: c.task_run_id, None
)
ctx_worker_id: ContextView[str | None] = ContextView("ctx_worker_id", lambda c: c.worker_id, None)
ctx_additional_metadata: ContextView[dict[str, Any] | None] = ContextView(
    "ctx_additional_metadata", lambda c: c.additional_metadata, None
)
ctx_task_retry_count: ContextView[int | None] = ContextView(
    "ctx_task_retry_count", lambda c: c.retry_count, 0
)
ctx_durable_context: ContextView[Any] = ContextView("ctx_durable_context", _durable, None)
ctx_hatchet_context: ContextView[Context | None] = ContextView(
    "ctx_hatchet_context", lambda c: c, None
)

spawn_index_lock = asyncio.Lock()


class TaskCounter:
    """A thread-safe counter (tasks started by this process)."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def increment(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    @property
    def value(self) -> int:
        return self._count


task_count = TaskCounter()

__all__ = [
    "ActionKey",
    "ContextView",
    "TaskCounter",
    "ctx_action_key",
    "ctx_additional_metadata",
    "ctx_durable_context",
    "ctx_hatchet_context",
    "ctx_step_run_id",
    "ctx_task_retry_count",
    "ctx_worker_id",
    "ctx_workflow_run_id",
    "spawn_index_lock",
    "task_count",
    "workflow_spawn_indices",
]
