"""Evicted durable task runs: the Redis side of eviction, restore and branches.

- ``mark_evicted`` (``durable_evict.lua``): a parked task run stays SUSPENDED with its
  wait registered and is marked evicted; one awaiting child runs moves RUNNING ->
  SUSPENDED, its lease released, with a ``dvc`` timer watching those child runs.
- ``restore`` (``durable_restore.lua``): an evicted task run is queued again and replayed
  from its checkpoints wherever it is claimed. A met wait restores it by itself (its
  checkpoint is stored and the task run queued, as for any durable wait); a finished
  child run restores it through the ``dvc`` timer; ``TaskApi.v1_task_restore`` restores
  it at once (the wait is then registered again by the replay, anchored at its start).
- ``reset`` (``durable_reset.lua``): ``runs.reset_durable_task`` starts a new branch from
  a node of a finished run, then replays the run.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from hatchet_celery._protocol import TERMINAL, TaskStatus
from hatchet_celery._runtime.core.engine import DEFAULT_SCHEDULE_TIMEOUT, REDISPATCH_SECONDS
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome, Rearm
from hatchet_celery._timer_entries import ChildWatch

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine

log = logging.getLogger(__name__)

CHILD_POLL_SECONDS = 1.0
FINISHED = TERMINAL


def mark_evicted(
    engine: Engine,
    run_id: str,
    task: str,
    claim: str,
    reason: str,
    children: list[str] | None = None,
) -> bool:
    """Mark the task run evicted (``children``: it was awaiting those child runs)."""
    keys = engine.keys
    now = engine.now()
    return bool(
        int(
            engine.store.script(
                "durable_evict",
                [keys.run(run_id), keys.leases, keys.timers],
                [
                    run_id,
                    task,
                    "parked" if children is None else "running",
                    claim,
                    reason,
                    json.dumps(children or []),
                    now + CHILD_POLL_SECONDS,
                ],
            )
        )
    )


def restore(engine: Engine, run_id: str, task: str) -> bool:
    """Queue an evicted task run again; False when it is not evicted (a no-op)."""
    keys = engine.keys
    decl = _declared(engine, run_id, task)
    schedule = decl.schedule_timeout_s if decl is not None else DEFAULT_SCHEDULE_TIMEOUT
    for _ in range(5):
        seen = engine.store.redis.hget(keys.run(run_id), f"cw:{task}") or ""
        waiters = []
        if seen:
            for c in json.loads(seen).get("conds", []):
                if c.get("kind") != "sleep" and c.get("ek"):
                    waiters.append(keys.event_waiters(c["ek"]))
        res = engine.store.script(
            "durable_restore",
            [keys.run(run_id), keys.timers, *waiters],
            [run_id, task, seen, engine.now(), REDISPATCH_SECONDS, schedule],
        )
        code = int(res[0])
        if code == 2:
            continue  # the wait changed meanwhile: read it again
        if code == 0:
            return False
        attempt, workflow = int(res[1] or 0), str(res[2])
        priority = int(res[3]) if res[3] else None
        ready = Ready(workflow, task, run_id, "", attempt, str(res[4]) or None, priority)
        try:
            engine.publish_ready([ready])
        except Exception:  # its watchdog timer dispatches it instead
            log.exception("hatchet_celery: restored %s of run %s not published", task, run_id)
        return True
    return False


def _declared(engine: Engine, run_id: str, task: str) -> Any:
    workflow = str(engine.store.redis.hget(engine.keys.run(run_id), "wf") or "")
    return engine.registry.tasks.get(engine.celery_name(workflow, task))


def watch_children(
    engine: Engine, entries: list[ChildWatch], now: float
) -> dict[ChildWatch, Outcome]:
    """Timer kind ``dvc``: evicted task runs awaiting child runs. Restore those with a
    finished child (``durable_restore`` drops the timer in that step), look again a second
    later at the others; done with those that moved on. A restore run twice is once (the
    second finds the task run no longer evicted)."""
    keys = engine.keys
    pipe = engine.store.redis.pipeline(transaction=False)
    for entry in entries:
        pipe.hmget(
            keys.run(entry.run_id),
            f"s:{entry.task}",
            f"c:{entry.task}",
            f"ev:{entry.task}",
            f"ew:{entry.task}",
        )
    states = pipe.execute()
    outcomes: dict[ChildWatch, Outcome] = {}
    watched: list[tuple[ChildWatch, list[str]]] = []
    for entry, (status, claim, evicted, children) in zip(entries, states, strict=True):
        if status != TaskStatus.SUSPENDED or evicted is None or evicted != claim:
            outcomes[entry] = DONE
        else:
            watched.append((entry, json.loads(children or "[]")))
    pipe = engine.store.redis.pipeline(transaction=False)
    for _, children in watched:
        for child in children:
            pipe.hget(keys.run(child), "st")
    statuses = iter(pipe.execute())
    for entry, children in watched:
        done = [next(statuses) for _ in children]
        if not children or any(s is None or s in FINISHED for s in done):
            restore(engine, entry.run_id, entry.task)
            outcomes[entry] = DONE
        else:
            outcomes[entry] = Rearm(now + CHILD_POLL_SECONDS)
    return outcomes


class BranchError(ValueError):
    """``reset_durable_task`` named a branch the task run never had."""


def reset(engine: Engine, run_id: str, task: str, node: int, branch: int) -> int:
    """Start a new branch of ``task`` from ``node`` of ``branch``; returns its id."""
    res = engine.store.script(
        "durable_reset", [engine.keys.run(run_id)], [run_id, task, node, branch]
    )
    code = int(res[0])
    if code == -1:
        raise BranchError(f"durable task {task!r} of run {run_id} has no branch {branch}")
    if code == 0:
        raise ValueError(
            f"cannot reset durable task {task!r} of run {run_id}: the run is "
            f"{res[1] or 'gone'} (only a finished run is reset here)"
        )
    return int(res[1])


__all__ = ["BranchError", "mark_evicted", "reset", "restore", "watch_children"]
