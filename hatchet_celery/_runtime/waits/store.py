"""Waits on sleeps and events, shared by task conditions and durable tasks.

A wait belongs to one task run and lives in its run hash (``cw:<task>``, see ``_keys.py``):
a list of conditions, each with an action (QUEUE / SKIP / CANCEL for task conditions,
CREATE for durable waits) and an OR-group; an action is taken when every one of its
groups has a met condition (Hatchet's CNF). Three scripts carry it:

- ``cond_wait`` registers the wait and moves the task run out of QUEUED / RUNNING in one
  step: sleep timers (kind ``wsl``) go to the timer set, event conditions to a waiter
  hash per event key.
- ``event_push`` (events.py) stores an event and reads the waiters of its key in one step.
- ``cond_satisfy`` records a met condition and resolves the wait when an action is due.

No event is lost between a push and a registration: the push sees every waiter registered
before it, and a registration reads the events stored since its lookback start *after* it
registered (``lookback``), so whichever came first, one side sees the other. CEL cannot
run inside Redis, so the matching (scope, expression) is done here, in Python, and the
scripts only take the decisions that must be atomic.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatchet_celery._cel import CelEvaluationError, cel_bool, compile_cel
from hatchet_celery._durations import render
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome
from hatchet_celery._timer_entries import SleepDue
from hatchet_celery.conditions import SleepCondition, UserEventCondition

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine

log = logging.getLogger(__name__)

# A gate decision is carried out by whoever took it; if that process dies, a ``wdx`` timer
# this much later carries it out instead (at once when the deciding process lacks the code).
RECOVERY_SECONDS = 5.0
EVENT_CEL_VARIABLES = ("input", "additional_metadata", "event_key")


@dataclass(frozen=True)
class WaitCondition:
    """One sleep or event condition of a wait, as registered."""

    id: str
    kind: str  # "sleep" | "event"
    action: str  # QUEUE | SKIP | CANCEL | CREATE
    group: str
    key: str  # readable_data_key: names the condition in the result
    seconds: float = 0.0
    event_key: str = ""  # namespaced
    scope: str | None = None
    expression: str | None = None
    since: float | None = None  # lookback start; None = the wait's own start

    @classmethod
    def of(
        cls,
        c: SleepCondition | UserEventCondition,
        *,
        id: str,
        action: str,
        group: str,
        event_key: str = "",
    ) -> WaitCondition:
        """A declared sleep or event condition, as a wait registers it (``event_key`` is
        the namespaced key of an event condition)."""
        if isinstance(c, SleepCondition):
            return cls(id, "sleep", action, group, c.readable_data_key, seconds=c.seconds)
        since = c.consider_events_since.timestamp() if c.consider_events_since else None
        return cls(
            id,
            "event",
            action,
            group,
            c.readable_data_key,
            event_key=event_key,
            scope=c.scope,
            expression=c.expression,
            since=since,
        )


@dataclass
class Wait:
    """A wait of one task run: gate (task conditions) or durable (a checkpoint)."""

    run_id: str
    task: str
    workflow: str
    wid: str
    mode: str  # "gate" | "durable"
    conditions: list[WaitCondition]
    schedule_timeout: float
    since: float  # lookback start of event conditions without their own
    node: int = 0
    signature: str = ""

    def member(self, cond: WaitCondition) -> str:
        """Its sleep timer member, or its entry in the waiter hash of its event key."""
        if cond.kind == "sleep":
            return SleepDue(self.run_id, self.task, self.wid, cond.id, render(cond.seconds)).member
        return f"{self.run_id}|{self.task}|{self.wid}|{cond.id}"

    def spec_json(self) -> str:
        return json.dumps(
            {
                "wid": self.wid,
                "mode": self.mode,
                "node": self.node,
                "sig": self.signature,
                "sched": self.schedule_timeout,
                "conds": [
                    {
                        "id": c.id,
                        "kind": c.kind,
                        "action": c.action,
                        "group": c.group,
                        "key": c.key,
                        "ek": c.event_key,
                        "m": self.member(c),
                    }
                    for c in self.conditions
                ],
            }
        )


@dataclass(frozen=True)
class Resolution:
    """What ``cond_satisfy`` decided: the action, and what carrying it out needs."""

    run_id: str
    task: str
    action: str
    attempt: int
    claim: str
    workflow: str
    priority: int | None
    parent_task_run_id: str | None
    result: dict[str, Any]
    node: int = 0  # durable: the checkpoint the result was stored as, and its signature
    signature: str = ""


def register(engine: Engine, wait: Wait, token: str, now: float) -> bool:
    """Register ``wait`` and move its task run to WAITING / SUSPENDED; then read lookback.

    Returns False when the task run was not in the expected state (nothing registered).
    A condition met at once (lookback event, zero sleep) may resolve the wait right here.
    """
    keys = engine.keys
    sleeps = [c for c in wait.conditions if c.kind == "sleep"]
    events = [c for c in wait.conditions if c.kind == "event"]
    args: list[Any] = [wait.run_id, wait.task, wait.mode, token, now, wait.spec_json(), len(sleeps)]
    for c in sleeps:
        args += [wait.member(c), now + c.seconds]
    script_keys = [keys.run(wait.run_id), keys.timers, keys.leases]
    for c in events:
        script_keys.append(keys.event_waiters(c.event_key))
        args += [
            wait.member(c),
            json.dumps(
                {
                    "run": wait.run_id,
                    "task": wait.task,
                    "wf": wait.workflow,
                    "wid": wait.wid,
                    "cid": c.id,
                    "scope": c.scope,
                    "expr": c.expression,
                    "since": c.since if c.since is not None else wait.since,
                }
            ),
        ]
    if not int(engine.store.script("cond_wait", script_keys, args)):
        return False
    if events:
        lookback(engine, wait, events, now)
    return True


def lookback(engine: Engine, wait: Wait, events: list[WaitCondition], now: float) -> None:
    """Meet event conditions with events stored since their lookback start (newest first)."""
    keys = engine.keys
    redis = engine.store.redis
    pipe = redis.pipeline(transaction=False)
    for c in events:
        since = c.since if c.since is not None else wait.since
        pipe.zrevrangebyscore(keys.events_by_key(c.event_key), "+inf", since)
    id_lists: list[list[str]] = pipe.execute()
    wanted = sorted({i for ids in id_lists for i in ids})
    if not wanted:
        return
    docs = dict(zip(wanted, redis.hmget(keys.event_data, wanted), strict=True))
    for c, ids in zip(events, id_lists, strict=True):
        waiter = {"scope": c.scope, "expr": c.expression}
        for event_id in ids:
            raw = docs.get(event_id)
            if raw is None:
                continue
            event = json.loads(raw)
            if matches(waiter, event):
                res = satisfy(
                    engine,
                    wait.run_id,
                    wait.task,
                    wait.wid,
                    c.id,
                    json.dumps(event.get("payload") or {}),
                    local=True,
                )
                if res is not None:
                    return
                break


def matches(waiter: dict[str, Any], event: dict[str, Any]) -> bool:
    """Scope and CEL expression of an event condition against a stored event."""
    scope = waiter.get("scope")
    if scope is not None and event.get("scope") != scope:
        return False
    expression = waiter.get("expr")
    if not expression:
        return True
    program = compile_cel(expression, what="event condition", variables=EVENT_CEL_VARIABLES)
    try:
        return cel_bool(
            program,
            {
                "input": event.get("payload") or {},
                "additional_metadata": event.get("metadata") or {},
                "event_key": event.get("key", ""),
            },
            what="event condition",
        )
    except CelEvaluationError as exc:
        log.info("hatchet_celery: %s", exc)
        return False


def satisfy(
    engine: Engine,
    run_id: str,
    task: str,
    wid: str,
    cid: str,
    data_json: str,
    *,
    waiter_key: str | None = None,
    member: str = "",
    local: bool = True,
) -> Resolution | None:
    """Record a met condition; when it resolves the wait, carry the decision out.

    ``local``: the caller has the task's code (it can carry out gate decisions itself);
    otherwise a worker's timer pump does, at once.
    """
    met = Met(run_id, task, wid, cid, data_json, waiter_key=waiter_key, member=member)
    res = engine.store.script("cond_satisfy", *met.script_call(engine, local))
    resolution = _resolution(met, res)
    if resolution is not None:
        carry_out(engine, resolution)
        _forget(engine, [json.loads(res[8])])
    return resolution


@dataclass(frozen=True)
class Met:
    """One met condition, as ``cond_satisfy`` takes it."""

    run_id: str
    task: str
    wid: str
    cid: str
    data_json: str
    waiter_key: str | None = None
    member: str = ""  # its entry in the waiter hash ``waiter_key``
    timer: str = ""  # the sleep timer that fired (removed by the script)

    def script_call(self, engine: Engine, local: bool) -> tuple[list[str], list[Any]]:
        keys = engine.keys
        now = engine.now()
        cx_at = now + RECOVERY_SECONDS if local else now
        return (
            [keys.run(self.run_id), keys.timers, keys.leases, self.waiter_key or keys.timers],
            [
                self.run_id,
                self.task,
                self.wid,
                self.cid,
                self.data_json,
                now,
                now + engine.config.lease_seconds,
                cx_at,
                self.member,
                self.timer,
            ],
        )


def _resolution(met: Met, res: Any) -> Resolution | None:
    if int(res[0]) != 2:
        return None
    spec = json.loads(res[8])
    return Resolution(
        run_id=met.run_id,
        task=met.task,
        action=str(res[1]),
        attempt=int(res[2] or 0),
        claim=str(res[3]),
        workflow=str(res[4]),
        priority=int(res[5]) if res[5] else None,
        parent_task_run_id=str(res[6]) or None,
        result=json.loads(res[7]),
        node=int(spec.get("node") or 0),
        signature=str(spec.get("sig") or ""),
    )


def satisfy_many(engine: Engine, items: list[Met]) -> list[Resolution | None]:
    """``satisfy`` for a batch (due sleep timers): one pipeline of ``cond_satisfy``, one
    producer for every durable wake-up, one pipeline to drop stale event waiters."""
    if not items:
        return []
    pipe = engine.store.redis.pipeline(transaction=False)
    for met in items:
        engine.store.script_in(pipe, "cond_satisfy", *met.script_call(engine, True))
    replies = pipe.execute(raise_on_error=False)
    resolutions: list[Resolution | None] = []
    wakes: list[Resolution] = []
    specs: list[dict[str, Any]] = []
    for met, res in zip(items, replies, strict=True):
        if isinstance(res, Exception):
            log.warning("hatchet_celery: condition of run %s not recorded: %s", met.run_id, res)
            resolutions.append(None)
            continue
        resolution = _resolution(met, res)
        resolutions.append(resolution)
        if resolution is None:
            continue
        specs.append(json.loads(res[8]))
        if resolution.action == "CREATE":
            wakes.append(resolution)
        else:
            try:
                carry_out(engine, resolution)
            except Exception:  # its 'wdx' timer carries the decision out instead
                log.exception("hatchet_celery: decision for run %s failed", met.run_id)
    if wakes:
        for r in wakes:  # a coroutine parked here resumes without reading its checkpoint
            for wake in engine.extensions.durable_wakeups:
                wake(engine, r)
        engine.publish_ready([_ready(r) for r in wakes])
    _forget(engine, specs)
    return resolutions


def _forget(engine: Engine, specs: list[dict[str, Any]]) -> None:
    """Drop the event waiters of resolved waits (they would be stale); ``cond_satisfy``
    already removed their sleep timers."""
    keys = engine.keys
    stale = [(c["ek"], c["m"]) for spec in specs for c in spec.get("conds", [])]
    stale = [(ek, m) for ek, m in stale if ek]
    if not stale:
        return
    pipe = engine.store.redis.pipeline(transaction=False)
    for event_key, member in stale:
        pipe.hdel(keys.event_waiters(event_key), member)
    pipe.execute()


def _ready(r: Resolution) -> Ready:
    return Ready(r.workflow, r.task, r.run_id, "", r.attempt, r.parent_task_run_id, r.priority)


def carry_out(engine: Engine, r: Resolution) -> None:
    """Act on a resolved wait: wake a durable task, or hand a gate decision to the gate
    (both through the engine's extensions: ``durable_waits`` and ``conditions`` sit above)."""
    if r.action == "CREATE":
        for wake in engine.extensions.durable_wakeups:
            wake(engine, r)
        engine.publish_ready([_ready(r)])
        return
    for decide in engine.extensions.condition_decisions:
        decide(engine, r)


def fire_sleeps(engine: Engine, entries: list[SleepDue], now: float) -> dict[SleepDue, Outcome]:
    """Sleep conditions whose time has come: meet them, a claimed batch at once.
    ``cond_satisfy`` drops each sleep timer in the step that meets it (and a stale wait's
    timer too), so they are all done once it returned."""
    items = []
    for entry in entries:
        data = json.dumps({"sleep_duration": entry.sleep})
        items.append(
            Met(entry.run_id, entry.task, entry.wait_id, entry.cond_id, data, timer=entry.member)
        )
    satisfy_many(engine, items)
    return dict.fromkeys(entries, DONE)


__all__ = [
    "Met",
    "Resolution",
    "Wait",
    "WaitCondition",
    "carry_out",
    "matches",
    "register",
    "satisfy",
    "satisfy_many",
]
