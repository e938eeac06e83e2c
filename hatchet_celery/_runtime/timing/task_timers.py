"""Timer kinds ``d`` and ``w`` of a task run: a retry's dispatch, and its watchdog.

- ``d``: the backoff of a retry ended (or a task run was handed back, unpaused, requeued
  after a lost worker): it goes through the gates again, and its ``w`` timer takes over.
- ``w``: a task run still QUEUED is dispatched again (its message may have been lost, or
  sit in the queue of a worker that died; claiming is idempotent per attempt, so a
  duplicate is harmless) every ``REDISPATCH_SECONDS``, and fails with
  ``SCHEDULING_TIMED_OUT`` at its schedule deadline. A task this process does not declare
  is timed out with the shape its workers registered in Redis (the engine's
``undeclared_timeouts``: ``deadlines.expire_undeclared``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hatchet_celery._protocol import TaskStatus
from hatchet_celery._runtime.core.engine import REDISPATCH_SECONDS
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome, Rearm, retry_later
from hatchet_celery._runtime.core.transitions import record_failure
from hatchet_celery._timer_entries import TaskTimer
from hatchet_celery.exceptions import TaskTimeoutError

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine


def fire_task_timer(engine: Engine, entry: TaskTimer, now: float) -> Outcome:
    """Dispatch a retry whose backoff ended, or re-dispatch / time out a queued task."""
    keys, run_id, task_name = engine.keys, entry.run_id, entry.task
    res = engine.store.script(
        "timer_fire",
        [keys.run(run_id), keys.timers],
        [entry.member, entry.kind, entry.attempt, run_id, task_name, now, now + REDISPATCH_SECONDS],
    )
    if res[0] == "dispatch":
        priority = int(res[2]) if res[2] else None
        item = Ready(res[1], task_name, run_id, "", entry.attempt, res[3] or None, priority)
        # a retry goes through the gates again (slots, tokens); so does a re-sent message:
        # the gates let an admitted task run through again (they are idempotent per
        # attempt) and route it to a live worker
        engine.dispatch([item])
        return Rearm(float(res[4])) if res[4] else DONE
    if res[0] != "timeout":
        return DONE  # no longer queued at this attempt
    workflow = str(engine.store.redis.hget(keys.run(run_id), "wf") or "")
    task = engine.registry.tasks.get(engine.celery_name(workflow, task_name))
    if task is None:  # another worker's task: its deadline holds all the same
        if any(
            expire(engine, run_id, task_name, entry.attempt, now)
            for expire in engine.extensions.undeclared_timeouts
        ):
            return DONE
        return retry_later(now)  # its shape is unknown here for now
    claim = str(engine.store.redis.hget(keys.run(run_id), f"c:{task_name}") or "0")
    record_failure(
        engine,
        task,
        run_id,
        claim,
        entry.attempt,
        "",
        TaskTimeoutError(
            f"task {task_name!r} waited in the queue longer than its schedule_timeout "
            f"({task.schedule_timeout_s:g}s): SCHEDULING_TIMED_OUT"
        ),
        expected=TaskStatus.QUEUED,
        retry_allowed=False,
    )
    return DONE


__all__ = ["fire_task_timer"]
