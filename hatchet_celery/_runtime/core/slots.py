"""Worker slots with a cost: ``slot_cost`` and ``ctx.release_slot()``.

A worker started with ``slots=N`` runs at most N slot units of default (non-durable) tasks
at once: a task declared with ``slot_cost=c`` takes c units for as long as it runs, or
until it calls ``ctx.release_slot()``. Celery's pool already caps the number of tasks at
N, so only costs above 1 ever wait: the task run is claimed (RUNNING, its lease renewed)
and waits in its pool thread until enough units are free; the wait does not count
against its execution timeout. A cost above N runs alone (it could never fit otherwise).

Released units let costlier tasks in; they do not make the pool run more than N tasks.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from hatchet_celery._runtime.core.process import PROCESS

if TYPE_CHECKING:
    from hatchet_celery.context import Context
    from hatchet_celery.runnables.task import Task


class SlotBudget:
    """The slot units of this worker process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.used = 0

    def acquire(self, task: Task[Any, Any], ctx: Context) -> None:
        capacity = PROCESS.slots
        if capacity <= 0 or task.is_durable:
            return
        cost = min(max(int(task.slot_cost), 1), capacity)
        started = time.monotonic()
        with self._cond:
            while self.used + cost > capacity:
                self._cond.wait()
            self.used += cost
            ctx._slot_units = cost
        ctx.deadline += time.monotonic() - started

    def release(self, ctx: Context) -> None:
        """Give back what ``ctx`` holds (once; called early by ``ctx.release_slot()``)."""
        with self._cond:
            cost = getattr(ctx, "_slot_units", 0)
            if cost:
                ctx._slot_units = 0
                self.used -= cost
                self._cond.notify_all()


SLOTS = SlotBudget()
