"""Global rate limits (``RateLimit`` on a task): buckets in Redis, one per key, as Hatchet's.

A bucket of L units per window W is full at the start of each window and refilled to L
when the next window starts (windows follow each other from the moment the bucket was
made): 10 per minute with units 3 starts three runs at once, and the fourth when the next
minute begins, whatever the number of workers. Taking units is one script (``rl_take``)
over every bucket a task names: the task run gets the earliest instant at which all of
them have its units and reserves them (first come, first served; a run that fits in what
is left of the current window takes it even while earlier, larger ones wait for the next).
If that instant is now it is published; otherwise it is parked (``WAIT_RATE_LIMIT``: no
slot, no broker message) with a timer (kind ``rl``) at that instant, when it is woken and
dispatched through the gates behind this one.

- Static keys get their limit from ``hatchet.rate_limits.put``; a task naming a static key
  that was never put waits (checked every second) until it is.
- Dynamic keys, units and limits are CEL over ``input`` and ``additional_metadata``.
- Units above the limit can never be served: triggering such a run raises
  ``RateLimitExceededError`` before anything is created; if a limit shrinks later, the
  task run fails with that error instead of waiting forever.
- Order with concurrency: this gate comes after the concurrency gates, so a task run holds
  its concurrency slot while it waits for its instant. That wait is always finite (the
  reservation is made at once, the clock does the rest), so the two never deadlock.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatchet_celery._cel import CelProgram, cel_int, cel_key, compile_cel
from hatchet_celery._runtime.core.derived import Derived
from hatchet_celery._runtime.core.engine import UNDECLARED_DELAY
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome, Rearm
from hatchet_celery._runtime.flow import common as flow
from hatchet_celery._timer_entries import RateLimitRetry, RateLimitWake
from hatchet_celery.exceptions import RateLimitExceededError
from hatchet_celery.rate_limit import DURATION_SECONDS, RateLimit, RateLimitDuration

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)

CEL_VARIABLES = ("input", "additional_metadata")
MISSING_KEY_RETRY = 1.0
_MISSING_WARNED: set[str] = set()


@dataclass(frozen=True)
class Limit:
    """One compiled ``RateLimit``: key, units and limit as constants or CEL programs."""

    key: str | CelProgram
    units: int | CelProgram
    limit: int | CelProgram  # -1: the limit put for a static key
    window: float
    what: str

    def evaluate(self, variables: dict[str, Any]) -> tuple[str, int, int]:
        key = (
            self.key if isinstance(self.key, str) else cel_key(self.key, variables, what=self.what)
        )
        units = cel_int(self.units, variables, what=f"units of {self.what}")
        limit = cel_int(self.limit, variables, what=f"limit of {self.what}")
        if units <= 0:
            raise RateLimitExceededError(f"{self.what}: units must be positive, got {units}")
        if limit == 0 or limit < -1:
            raise RateLimitExceededError(f"{self.what}: limit must be positive, got {limit}")
        return key, units, limit


def _program(value: str, what: str) -> CelProgram:
    return compile_cel(value, what=what, variables=CEL_VARIABLES)


def compile_limit(rl: RateLimit, what: str) -> Limit:
    key: str | CelProgram = (
        rl.static_key if rl.static_key else _program(str(rl.dynamic_key), f"dynamic_key of {what}")
    )
    units: int | CelProgram = rl.units if isinstance(rl.units, int) else _program(rl.units, what)
    raw_limit = rl.limit if rl.limit is not None else -1
    limit: int | CelProgram = raw_limit if isinstance(raw_limit, int) else _program(raw_limit, what)
    duration = RateLimitDuration(rl.duration)
    return Limit(key, units, limit, float(DURATION_SECONDS[duration]), what)


def _limits(task: Task[Any, Any]) -> tuple[Limit, ...]:
    where = f"task {task.name!r} of workflow {task.workflow.name!r}"
    return tuple(
        compile_limit(rl, f"rate limit {i + 1} of {where}") for i, rl in enumerate(task.rate_limits)
    )


# The task's rate limits, compiled on first use, once per declaration.
limits_of: Derived[Task[Any, Any], tuple[Limit, ...]] = Derived(_limits)


class RateLimitGate:
    name = "rate_limits"

    def applies(self, task: Task[Any, Any]) -> bool:
        return bool(task.rate_limits)

    def admit(self, engine: Engine, task: Task[Any, Any], items: list[Ready]) -> list[Ready]:
        limits = limits_of(task)
        needs_input = any(not isinstance(x.key, str) for x in limits) or any(
            not isinstance(v, int) for x in limits for v in (x.units, x.limit)
        )
        rows: list[list[str | None]] = (
            flow.read_fields(engine, (i.run_id for i in items), "in", "md")
            if needs_input
            else [[None, None]] * len(items)
        )
        now = engine.now()
        pipe = engine.store.redis.pipeline(transaction=False)
        sent: list[Ready] = []
        for item, (raw_in, raw_md) in zip(items, rows, strict=True):
            try:
                taken = [x.evaluate(flow.cel_variables(raw_in, raw_md)) for x in limits]
            except Exception as exc:
                flow.fail_held(engine, task, item.run_id, exc)
                continue
            self._take(engine, pipe, item, limits, taken, now)
            sent.append(item)
        admitted: list[Ready] = []
        for item, res in zip(sent, pipe.execute(), strict=True):
            verdict = res[0]
            if verdict == "admit":
                admitted.append(item)
            elif verdict == "over":
                flow.fail_held(engine, task, item.run_id, _over(task, res[1], res[2], res[3]))
            elif verdict == "missing" and res[1] not in _MISSING_WARNED:
                _MISSING_WARNED.add(res[1])  # once per key and process: it retries every second
                log.warning(
                    "hatchet_celery: %s waits for rate limit %r, which was never put "
                    "(hatchet.rate_limits.put)",
                    task.name,
                    res[1],
                )
        return admitted

    @staticmethod
    def _take(
        engine: Engine,
        pipe: Any,
        item: Ready,
        limits: tuple[Limit, ...],
        taken: list[tuple[str, int, int]],
        now: float,
    ) -> None:
        keys = engine.keys
        merged: dict[str, list[Any]] = {}  # one key named twice takes the units of both
        for (key, units, limit), x in zip(taken, limits, strict=True):
            if key in merged:
                merged[key][0] += units
            else:
                merged[key] = [units, limit, x.window]
        tail: list[Any] = []
        for key, (units, limit, window) in merged.items():
            tail += [key, units, limit, window]
        engine.store.script_in(
            pipe,
            "rl_take",
            [
                keys.run(item.run_id),
                keys.timers,
                keys.rate_limits,
                *(keys.rate_limit(k) for k in merged),
            ],
            [
                item.run_id,
                item.task,
                item.attempt,
                flow.WAIT_RATE_LIMIT,
                now,
                flow.watch_at(now),
                RateLimitWake(item.attempt, item.run_id, item.task).member,
                RateLimitRetry(item.attempt, item.run_id, item.task).member,
                now + MISSING_KEY_RETRY,
                len(merged),
                *tail,
            ],
        )


GATE = RateLimitGate()


def _over(task: Task[Any, Any], key: str, units: Any, limit: Any) -> RateLimitExceededError:
    return RateLimitExceededError(
        f"task {task.name!r} of workflow {task.workflow.name!r} needs {units} units of rate "
        f"limit {key!r}, whose limit is {limit}: it could never run"
    )


def _task_of(engine: Engine, run_id: str, task_name: str) -> tuple[str, Task[Any, Any] | None]:
    workflow = str(engine.store.redis.hget(engine.keys.run(run_id), "wf") or "")
    wf = engine.registry.workflows.get(workflow)
    return workflow, (wf.task_map().get(task_name) if wf is not None else None)


def wake(engine: Engine, entry: RateLimitWake, now: float) -> Outcome:
    """The reserved instant of a parked task run came: dispatch it past this gate
    (``rl_wake`` drops the timer as it wakes the task run, whose watchdog takes over)."""
    run_id, task_name = entry.run_id, entry.task
    res = engine.store.script(
        "rl_wake",
        [engine.keys.run(run_id), engine.keys.timers],
        [entry.member, run_id, task_name, entry.attempt, flow.WAIT_RATE_LIMIT, flow.watch_at(now)],
    )
    if res:
        flow.dispatch_after(engine, GATE, str(res[0]), run_id, [task_name, res[2], res[3]], res[1])
    return DONE


def retry(engine: Engine, entry: RateLimitRetry, now: float) -> Outcome:
    """Try again to take the units of a task run that waits for a static key to be put.
    Still missing, ``rl_take`` re-arms this timer itself (so the pump leaves it)."""
    run_id, task_name = entry.run_id, entry.task
    workflow, task = _task_of(engine, run_id, task_name)
    redis = engine.store.redis
    if task is None:  # not declared here: offered again to a worker that declares it
        return Rearm(now + UNDECLARED_DELAY)
    status, deadline, pr = redis.hmget(
        engine.keys.run(run_id), [f"s:{task_name}", f"x:{task_name}", "pr"]
    )
    waited = " waited for its rate limit longer than its schedule_timeout"
    if flow.hold_is_over(engine, task, run_id, status, flow.WAIT_RATE_LIMIT, deadline, now, waited):
        return DONE
    item = Ready(workflow, task_name, run_id, "", entry.attempt, None, int(pr) if pr else None)
    if GATE.admit(engine, task, [item]):
        engine.dispatch([item], after=GATE)
    return DONE


def check_trigger(engine: Engine, workflow: Any, items: list[Any]) -> None:
    """Refuse, before anything is created, runs with a task needing units above a limit."""
    tasks = [t for t in workflow.tasks if t.rate_limits]
    if not tasks:
        return
    static: dict[str, int | None] = {}
    for task in tasks:
        for x in limits_of(task):
            if isinstance(x.key, str) and isinstance(x.limit, int) and x.limit < 0:
                static[x.key] = None
    if static:
        names = list(static)
        pipe = engine.store.redis.pipeline(transaction=False)
        for name in names:
            pipe.hget(engine.keys.rate_limit(name), "limit")
        for name, value in zip(names, pipe.execute(), strict=True):
            static[name] = int(value) if value is not None else None
    for item in items:
        variables = {
            "input": json.loads(item.input) if item.input else {},
            "additional_metadata": dict(item.options.additional_metadata or {}),
        }
        for task in tasks:
            for x in limits_of(task):
                try:
                    key, units, limit = x.evaluate(variables)
                except RateLimitExceededError:
                    raise
                except Exception:
                    continue  # an expression error fails the task run, with its message
                if limit < 0:
                    limit = static.get(key) or 0
                    if limit <= 0:
                        continue  # not put yet: the task waits for it
                if units > limit:
                    raise _over(task, key, units, limit)


def units_left(bucket: dict[str, Any], now: float) -> tuple[int, float]:
    """Units a bucket (its hash) can give at ``now``, and when its current window began.

    Mirrors the refill of ``rl_take.lua``: a later window is full, but for the units that
    waiting runs reserved in it."""
    limit = int(bucket["limit"])
    if "origin" not in bucket:
        return limit, now
    origin, span = int(bucket["origin"]), int(float(bucket["window"]) * 1000)
    w = int(bucket["w"])
    j = max((round(now * 1000) - origin) // span, w)
    value = int(bucket["value"]) if j == w else limit - int(bucket.get(f"r:{j}", 0))
    return max(0, min(limit, value)), (origin + j * span) / 1000


def put(engine: Engine, key: str, limit: int, duration: RateLimitDuration) -> None:
    if limit <= 0:
        raise ValueError(f"rate limit {key!r}: limit must be positive, got {limit}")
    window = DURATION_SECONDS[RateLimitDuration(duration)]
    engine.store.script(
        "rl_put",
        [engine.keys.rate_limit(key), engine.keys.rate_limits],
        [key, engine.now(), limit, window, ""],
    )


def pause(engine: Engine, key: str, until: float) -> float:
    if not engine.store.redis.exists(engine.keys.rate_limit(key)):
        raise ValueError(f"rate limit {key!r} does not exist (put it, or run a task using it)")
    res = engine.store.script(
        "rl_put",
        [engine.keys.rate_limit(key), engine.keys.rate_limits],
        [key, engine.now(), "", "", until],
    )
    return float(res)
