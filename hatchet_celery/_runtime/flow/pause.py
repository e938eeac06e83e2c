"""Workflow pause: while a workflow is paused its ready task runs wait, holding no slot.

``pause`` records the settings (``P:paused``); the pause gate (right behind the
conditions gate) parks every ready task run of a paused workflow in ``WAIT_PAUSED``
(``pause_park.lua``: the paused check and the park are one step, so an unpause cannot
miss a task run parked at the same moment). Runs keep the QUEUED status. A parked task
run older than the queue TTL is cancelled (``pz|<workflow>`` timer, ``pause_expire.lua``).
``unpause`` puts the parked task runs back to QUEUED with a due dispatch timer, so a
worker's pump sends them through the remaining gates (``pause_set.lua``). Crons and
scheduled runs that fire while the workflow is paused are dropped when its pause says
``DROP`` and created (then parked like any other run) when it says ``QUEUE``.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from hatchet_celery._protocol import TaskStatus
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome
from hatchet_celery._runtime.ops import cancellation
from hatchet_celery._timer_entries import PauseExpiry

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)

WAIT_PAUSED = TaskStatus.WAIT_PAUSED
QueueBehavior = Literal["DROP", "QUEUE"]


def _script_keys(engine: Engine, workflow: str) -> list[str]:
    keys = engine.keys
    return [keys.paused, keys.paused_tasks(workflow), keys.timers]


def pause(
    engine: Engine,
    workflow: str,
    queue_ttl: timedelta,
    cron_behavior: QueueBehavior = "QUEUE",
    scheduled_behavior: QueueBehavior = "QUEUE",
) -> None:
    """Pause ``workflow``: its task runs wait (up to ``queue_ttl`` each) until ``unpause``."""
    for what, value in (("cron", cron_behavior), ("scheduled", scheduled_behavior)):
        if value not in ("DROP", "QUEUE"):
            raise ValueError(
                f"pause of workflow {workflow!r}: paused {what} run behaviour must be "
                f"'DROP' or 'QUEUE', got {value!r}"
            )
    ttl = queue_ttl.total_seconds()
    if ttl <= 0:
        raise ValueError(f"pause of workflow {workflow!r}: queue_ttl must be positive")
    record = json.dumps({"ttl": ttl, "cron": cron_behavior, "scheduled": scheduled_behavior})
    engine.store.script(
        "pause_set",
        _script_keys(engine, workflow),
        [workflow, engine.now(), engine.keys.run_prefix, record],
    )


def unpause(engine: Engine, workflow: str) -> int:
    """Unpause ``workflow``; returns how many waiting task runs were released."""
    res = engine.store.script(
        "pause_set",
        _script_keys(engine, workflow),
        [workflow, engine.now(), engine.keys.run_prefix, ""],
    )
    return int(res)


def settings(engine: Engine, workflow: str) -> dict[str, Any] | None:
    """The pause settings of ``workflow``, or None when it is not paused."""
    raw = engine.store.redis.hget(engine.keys.paused, workflow)
    return json.loads(raw) if raw else None


def paused_names(engine: Engine) -> set[str]:
    return {str(k) for k in engine.store.redis.hkeys(engine.keys.paused)}


def drops(engine: Engine, workflow: str, source: Literal["cron", "scheduled"]) -> bool:
    """Whether a cron tick or scheduled run of ``workflow`` firing now creates no run."""
    current = settings(engine, workflow)
    if current is not None and current.get(source) == "DROP":
        log.info("hatchet_celery: %s run of paused workflow %r dropped", source, workflow)
        return True
    return False


class PauseGate:
    """Parks the ready task runs of a paused workflow (one script call per batch)."""

    name = "pause"

    def applies(self, task: Task[Any, Any]) -> bool:
        return True

    def admit(self, engine: Engine, task: Task[Any, Any], items: list[Ready]) -> list[Ready]:
        workflow = items[0].workflow
        unchecked = [r for r in items if self.name not in r.checked]
        if not unchecked:
            return items
        args: list[Any] = [workflow, engine.now(), engine.keys.run_prefix]
        for r in unchecked:
            args += [r.run_id, r.task, r.attempt]
        if int(engine.store.script("pause_park", _script_keys(engine, workflow), args)) == 0:
            return items
        return [r for r in items if self.name in r.checked]


GATE = PauseGate()


def expire_parked(engine: Engine, entry: PauseExpiry, now: float) -> Outcome:
    """Cancel the task runs a paused workflow held longer than its queue TTL.

    Cancelled first, then dropped from the parked set by ``pause_expire``, which re-arms
    or removes the timer in the same step (so a task run parked meanwhile keeps a timer):
    a process dying in between leaves them parked and the timer claimed, and the next
    pass cancels them again (a no-op) before dropping them."""
    workflow = entry.key
    current = settings(engine, workflow)
    expired: list[str] = []
    if current is not None:
        parked = engine.keys.paused_tasks(workflow)
        expired = [
            str(m)
            for m in engine.store.redis.zrangebyscore(parked, "-inf", now - float(current["ttl"]))
        ]
    for member in expired:
        run_id, task, _attempt = member.split("|", 2)
        status = engine.store.redis.hget(engine.keys.run(run_id), f"s:{task}")
        if status != WAIT_PAUSED:
            continue
        try:
            cancellation.cancel_task(engine, run_id, task)
        except Exception:
            log.exception("hatchet_celery: cancelling expired paused task %s of %s", task, run_id)
            raise  # the timer stays claimed: the next pass tries again
        log.info(
            "hatchet_celery: task %s of run %s cancelled: paused workflow %r held it "
            "past its queue TTL",
            task,
            run_id,
            workflow,
        )
    engine.store.script(
        "pause_expire", _script_keys(engine, workflow), [workflow, entry.member, *expired]
    )
    return DONE  # pause_expire removed or re-armed the timer


__all__ = ["WAIT_PAUSED", "drops", "pause", "paused_names", "settings", "unpause"]
