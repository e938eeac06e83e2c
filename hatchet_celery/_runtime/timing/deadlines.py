"""Schedule timeouts that hold with no worker up: any process can expire an overdue task run.

A queued task run carries its schedule deadline in the run hash (``x:<task>``) and a
watchdog timer; a worker's timer pump fails it at the deadline (``task_timers``). With no
worker up nobody pumps, so a run whose task is never picked up would stay QUEUED past its
deadline and ``result()`` would block. Here the deadline is enforced by whoever else is
there, with one transition (``task_expire.lua``) that checks the deadline itself, so two
processes doing it at once, or one doing it early, change nothing:

- a process waiting on runs (``result()``, ``aio_result()``: ``waiter.RunWaiter``) checks
  the runs it waits on every second while no worker has sent a heartbeat lately;
- a worker's pump meeting the deadline of a task it does not declare (another worker's
  task) expires it with the workflow's shape from Redis instead of leaving it queued;
- celery beat, while no worker heartbeats, looks through the due watchdog timers (runs
  that nobody waits on: ``run_no_wait``, crons, events) and expires the overdue ones.

The task run fails with Hatchet's ``SCHEDULING_TIMED_OUT`` error and is not retried; its
descendants are BLOCKED and the on-failure task, if any, is queued.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from hatchet_celery._protocol import TERMINAL, TaskStatus
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.ops.cancellation import RunShape
from hatchet_celery._timer_entries import Watchdog, kind_of
from hatchet_celery.exceptions import TaskRunError, TaskTimeoutError

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine

log = logging.getLogger(__name__)

# A worker heartbeats every 5 s (services.WorkerServices): silent this long, it is gone.
PUMP_SILENT_AFTER = 15.0
# Statuses of a task run that has not started yet and may still time out.
NOT_STARTED = frozenset({TaskStatus.QUEUED, TaskStatus.WAIT_RATE_LIMIT, TaskStatus.WAIT_WORKER})
_UNKNOWN_WARNED: set[str] = set()
# Due timers one beat pass reads; a longer backlog is read in turns (a cursor per timer set).
SCAN = 500
_cursor: dict[str, float] = {}


def timeout_error(task: str, seconds: float) -> TaskTimeoutError:
    return TaskTimeoutError(
        f"task {task!r} waited in the queue longer than its schedule_timeout "
        f"({seconds:g}s): SCHEDULING_TIMED_OUT"
    )


def pump_alive(engine: Engine, now: float) -> bool:
    """Whether some worker of this namespace sent a heartbeat lately (its pump runs)."""
    for raw in engine.store.redis.hvals(engine.keys.workers):
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        beat = float(record.get("last_heartbeat") or 0)
        if not record.get("stopped") and now - beat < PUMP_SILENT_AFTER:
            return True
    return False


def overdue(engine: Engine, run_ids: list[str], now: float) -> list[tuple[str, str, str, int]]:
    """(run id, workflow, task, attempt) of the task runs of ``run_ids`` past their deadline."""
    pipe = engine.store.redis.pipeline(transaction=False)
    for run_id in run_ids:
        pipe.hgetall(engine.keys.run(run_id))
    found: list[tuple[str, str, str, int]] = []
    for run_id, fields in zip(run_ids, pipe.execute(), strict=True):
        if not fields or fields.get("st") in TERMINAL:
            continue
        for field, status in fields.items():
            if not field.startswith("s:") or status not in NOT_STARTED:
                continue
            task = field[2:]
            deadline = float(fields.get(f"x:{task}") or 0)
            if 0 < deadline <= now:
                found.append((run_id, fields.get("wf", ""), task, int(fields.get(f"a:{task}", 0))))
    return found


def expire(engine: Engine, run_id: str, workflow: str, task: str, attempt: int, now: float) -> bool:
    """Fail one task run past its schedule deadline (no-op unless it still waits at
    ``attempt`` and the deadline has passed). True when it failed it."""
    shape = RunShape.of(engine, workflow)
    if shape is None:
        if workflow not in _UNKNOWN_WARNED:
            _UNKNOWN_WARNED.add(workflow)
            log.warning(
                "hatchet_celery: cannot time out %s of run %s: workflow %r is neither "
                "declared here nor registered in Redis by a worker",
                task,
                run_id,
                workflow,
            )
        return False
    keys = engine.keys
    task_run_id = str(engine.store.redis.hget(keys.run(run_id), f"i:{task}") or "")
    error = TaskRunError.from_exception(timeout_error(task, shape.timeout(task)), task_run_id)
    error.task_name = task
    of_args = shape.on_failure_args(run_id, now)
    res = engine.store.script(
        "task_expire",
        [keys.run(run_id), keys.timers, keys.done_channel, keys.status_index, keys.task_runs],
        [
            run_id,
            task,
            attempt,
            now,
            engine.config.retention_seconds,
            json.dumps(error.to_dict()),
            *of_args,
            *shape.descendants(task),
        ],
    )
    if int(res[0]) != 1:
        return False
    log.warning(
        "hatchet_celery: %s of run %s was not started within its schedule_timeout (%gs): "
        "SCHEDULING_TIMED_OUT",
        task,
        run_id,
        shape.timeout(task),
    )
    declared = engine.registry.tasks.get(engine.celery_name(workflow, task))
    if declared is not None:
        engine.task_finished(declared, run_id, TaskStatus.FAILED)
    if res[2] and shape.local:
        engine.dispatch([Ready(workflow, str(res[2]), run_id, str(of_args[1]), 0)])
    if res[1] in TERMINAL:
        engine.run_finished(workflow, run_id, str(res[1]))
    return True


def sweep(engine: Engine, run_ids: list[str], now: float) -> int:
    """Expire the overdue task runs of ``run_ids`` when no worker pumps the timers."""
    if not run_ids or pump_alive(engine, now):
        return 0
    return sum(expire(engine, *found, now) for found in overdue(engine, run_ids, now))


def sweep_due(engine: Engine, now: float) -> int:
    """Expire the overdue task runs among the due watchdog timers (``w|attempt|run|task``),
    when no worker pumps them. Reads the timers, never claims them."""
    if pump_alive(engine, now):
        return 0
    timers = engine.keys.timers
    low = _cursor.get(timers)
    due: list[Any] = list(
        engine.store.redis.zrangebyscore(
            timers, "-inf" if low is None else f"({low}", now, start=0, num=SCAN, withscores=True
        )
    )
    if len(due) >= SCAN:
        _cursor[timers] = float(due[-1][1])
    else:
        _cursor.pop(timers, None)
    watched = [Watchdog.decode(str(m)) for m, _score in due if kind_of(str(m)) == Watchdog.kind]
    if not watched:
        return 0
    pipe = engine.store.redis.pipeline(transaction=False)
    for w in watched:
        pipe.hget(engine.keys.run(w.run_id), "wf")
    count = 0
    for w, workflow in zip(watched, pipe.execute(), strict=True):
        if workflow is not None:
            count += expire(engine, w.run_id, str(workflow), w.task, w.attempt, now)
    return count


def expire_undeclared(engine: Engine, run_id: str, task: str, attempt: int, now: float) -> bool:
    """The pump met the deadline of a task this process does not declare
    (``task_timers``)."""
    workflow = str(engine.store.redis.hget(engine.keys.run(run_id), "wf") or "")
    return expire(engine, run_id, workflow, task, attempt, now)
