"""What the flow-control gates share: run fields, CEL variables, waking and cancelling.

Concurrency, rate limits and affinity each hold back ready task runs (see ``hooks.Gate``).
A held task run is *parked*: it leaves QUEUED for the gate's own waiting status (a Lua
``park_task``), so neither the watchdog nor a stray message starts it, and no worker slot
is taken while it waits. When the gate lets it go it is *woken* (``wake_task``: back to
QUEUED, watchdog armed) and dispatched through the gates behind the one that held it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hatchet_celery._protocol import TERMINAL, TaskStatus
from hatchet_celery._runtime.core.engine import REDISPATCH_SECONDS
from hatchet_celery._runtime.core.hooks import Gate, Ready
from hatchet_celery._runtime.core.transitions import record_failure
from hatchet_celery._runtime.ops import cancellation
from hatchet_celery.exceptions import TaskTimeoutError

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)

# Waiting statuses of the flow-control gates (anything but QUEUED is never claimed).
WAIT_CONCURRENCY = TaskStatus.WAIT_CONCURRENCY
WAIT_RATE_LIMIT = TaskStatus.WAIT_RATE_LIMIT
WAIT_WORKER = TaskStatus.WAIT_WORKER
WAITING = frozenset({WAIT_CONCURRENCY, WAIT_RATE_LIMIT, WAIT_WORKER})


def read_fields(engine: Engine, run_ids: Iterable[str], *fields: str) -> list[list[str | None]]:
    """``HMGET`` of the same fields on several run hashes, in one round trip."""
    pipe = engine.store.redis.pipeline(transaction=False)
    for run_id in run_ids:
        pipe.hmget(engine.keys.run(run_id), list(fields))
    return list(pipe.execute())


def cel_variables(raw_input: str | None, raw_metadata: str | None) -> dict[str, Any]:
    """The variables Hatchet's flow-control expressions see."""
    return {
        "input": json.loads(raw_input) if raw_input else {},
        "additional_metadata": json.loads(raw_metadata) if raw_metadata else {},
    }


def watch_at(now: float) -> float:
    return now + REDISPATCH_SECONDS


def dispatch_after(
    engine: Engine, gate: Gate, workflow: str, run_id: str, woken: list[Any], priority: Any
) -> None:
    """Dispatch task runs a gate woke (``[task, task_run_id, attempt, ...]``) past the gate."""
    pr = int(priority) if priority not in (None, "") else None
    items = [
        Ready(workflow, woken[i], run_id, woken[i + 1], int(woken[i + 2]), None, pr)
        for i in range(0, len(woken), 3)
    ]
    if items:
        engine.dispatch(items, after=gate)


def fail_held(engine: Engine, task: Task[Any, Any], run_id: str, exc: BaseException) -> None:
    """Fail a task run a gate holds or cannot admit (bad expression, units over the limit).

    Not retried: the same input would fail the same way.
    """
    status, claim, attempt, task_run_id = (
        str(v) if v is not None else None
        for v in engine.store.redis.hmget(
            engine.keys.run(run_id),
            [f"s:{task.name}", f"c:{task.name}", f"a:{task.name}", f"i:{task.name}"],
        )
    )
    if status is None or status in TERMINAL or status == TaskStatus.RUNNING:
        return
    record_failure(
        engine,
        task,
        run_id,
        claim or "0",
        int(attempt or 0),
        task_run_id or "",
        exc,
        expected=status,
        retry_allowed=False,
    )


def hold_is_over(
    engine: Engine,
    task: Task[Any, Any],
    run_id: str,
    status: Any,
    held_as: str,
    deadline: Any,
    now: float,
    waited: str,
) -> bool:
    """For the timer of a task run a gate holds: True when the hold is over, because the
    task run left ``held_as`` or its schedule deadline passed (then it is failed here with
    SCHEDULING_TIMED_OUT, ``waited`` saying for what, right after the task's name)."""
    if status != held_as:
        return True
    if deadline and now >= float(deadline):
        fail_held(
            engine,
            task,
            run_id,
            TaskTimeoutError(
                f"task {task.name!r}{waited} ({task.schedule_timeout_s:g}s): SCHEDULING_TIMED_OUT"
            ),
        )
        return True
    return False


def cancel(engine: Engine, run_id: str, task_name: str | None, reason: str) -> None:
    """Cancel one task run (``task_name``) or a whole run, as a CANCEL_* strategy does.

    A running attempt is stopped by its worker's watchdog (its status changes); the
    descendants of a cancelled task never run; the run finishes CANCELLED.
    """
    if task_name is None:
        cancellation.cancel_run(engine, run_id)
    else:
        cancellation.cancel_task(engine, run_id, task_name)
    log.info("hatchet_celery: %s of run %s cancelled (%s)", task_name or "all", run_id, reason)
