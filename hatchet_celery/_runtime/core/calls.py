"""Calling a user's async task function, and the signal a durable wait ends an attempt with.

Shared by the executor and the durable-waits module (which runs a durable task's
coroutine itself), so neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from hatchet_celery.context import current_context

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.watchdog import InFlight
    from hatchet_celery.context import Context
    from hatchet_celery.runnables.task import Task


class Suspended(BaseException):
    """Raised inside a durable task that waits: the attempt ends without an outcome.

    ``commit`` (set by the durable-waits module) moves the task run out of RUNNING
    atomically, releasing its lease, so no slot is held while it waits.
    """

    def __init__(self, commit: Callable[[InFlight], None] | None = None) -> None:
        super().__init__("suspended")
        self.commit = commit


async def run_async(task: Task[Any, Any], ctx: Context) -> Any:
    current_context.set(ctx)
    if not task.dependencies:
        return await task.fn(ctx._input, ctx)
    async with AsyncExitStack() as stack:
        deps = await task.resolve_dependencies(ctx._input, ctx, stack)
        return await task.fn(ctx._input, ctx, **deps)
