"""Sticky runs and worker affinity: which worker a task run goes to.

Every worker consumes, besides its workflows' queues, a queue of its own
(``hatchet.<namespace>.worker.<worker id>``, added when its services start), and writes its
labels and the workflows it serves into its heartbeat record (``keys.workers``). This
gate, the last one, picks a worker for the task runs that ask for one and sets
``Ready.queue`` to that worker's queue; the others go to their workflow's queue as usual.

- ``desired_worker_labels`` (on the task, and on the trigger for every task of the run):
  a worker missing a *required* label is never chosen; among the others the one whose
  satisfied labels weigh most wins (weight 100 unless given), ties broken at random.
  Comparators compare ``worker value <op> desired value``; ordering ones need integers.
- ``sticky``: the run keeps to one worker (the run hash's ``sw``), chosen when its first
  task is routed, or the triggering task's worker for a child run triggered with
  ``sticky=True``. SOFT falls back to another worker when that one is gone, HARD waits.
- No eligible worker: the task run is parked (``WAIT_WORKER``, no slot, no message) and
  routed again every ``RETRY_SECONDS`` until its schedule timeout.

- Everything else goes to its workflow's own queue (``Registry.task_queue``), which only the
  workers serving that workflow consume: no routing decision, no directory read.

A worker is alive while its heartbeat is younger than ``ACTIVE_WITHIN``; the directory of
workers is read at most once per ``DIRECTORY_TTL`` per process.

A run's routing options (``aff``, ``sw`` in its hash) cost the gate no read on the common
paths: the process that triggered a run remembers them for the roots it dispatches
(``FRESH``), and the claim of a task returns them, so the children its completion releases
carry them (``Ready.route``). Other paths (timers, wake-ups) read them with the dispatch.
"""

from __future__ import annotations

import json
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatchet_celery._runtime.core import broker_compat
from hatchet_celery._runtime.core.broker_compat import WORKER_QUEUE_INFIX, queue_prefix
from hatchet_celery._runtime.core.engine import UNDECLARED_DELAY
from hatchet_celery._runtime.core.hooks import Ready, RunRoute
from hatchet_celery._runtime.core.process import PROCESS
from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome, Rearm
from hatchet_celery._runtime.flow import common as flow
from hatchet_celery._timer_entries import AffinityRetry
from hatchet_celery.labels import DesiredWorkerLabel, WorkerLabelComparator
from hatchet_celery.runnables.workflow import _labels

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.runnables.task import Task

ACTIVE_WITHIN = 15.0
DIRECTORY_TTL = 1.0
RETRY_SECONDS = 0.5
DEFAULT_WEIGHT = 100
FRESH_RUNS = 10_000  # run options this process just wrote, so its own roots skip a read


def worker_queue(engine: Engine, worker_id: str) -> str:
    """The queue only worker ``worker_id`` consumes (declared by ``broker_compat``)."""
    return f"{queue_prefix(engine.config.namespace)}{WORKER_QUEUE_INFIX}{worker_id}"


# --- labels -------------------------------------------------------------------------------
def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def satisfies(labels: dict[str, Any], desired: DesiredWorkerLabel) -> bool:
    """Whether a worker with ``labels`` meets ``desired`` (``worker value <op> desired``)."""
    if desired.key is None or desired.key not in labels:
        return False
    have, want = labels[desired.key], desired.value
    op = WorkerLabelComparator(desired.comparator or WorkerLabelComparator.EQUAL)
    if op == WorkerLabelComparator.EQUAL:
        return str(have) == str(want)
    if op == WorkerLabelComparator.NOT_EQUAL:
        return str(have) != str(want)
    a, b = _as_int(have), _as_int(want)
    if a is None or b is None:
        return False
    if op == WorkerLabelComparator.GREATER_THAN:
        return a > b
    if op == WorkerLabelComparator.GREATER_THAN_OR_EQUAL:
        return a >= b
    if op == WorkerLabelComparator.LESS_THAN:
        return a < b
    return a <= b


def score(labels: dict[str, Any], desired: list[DesiredWorkerLabel]) -> int | None:
    """Total weight of the satisfied labels; None when a required one is not satisfied."""
    total = 0
    for d in desired:
        if satisfies(labels, d):
            total += d.weight if d.weight is not None else DEFAULT_WEIGHT
        elif d.required:
            return None
    return total


# --- the directory of live workers ---------------------------------------------------------
@dataclass(frozen=True)
class WorkerInfo:
    id: str
    labels: dict[str, Any]
    workflows: frozenset[str] | None

    def serves(self, workflow: str) -> bool:
        return self.workflows is None or workflow in self.workflows


@dataclass(frozen=True)
class Snapshot:
    read_at: float
    workers: list[WorkerInfo]


class Directory:
    """Live workers from their heartbeats, re-read at most once per ``DIRECTORY_TTL``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, Snapshot] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    def live(self, engine: Engine) -> list[WorkerInfo]:
        now = engine.now()
        where = engine.keys.workers
        with self._lock:
            cached = self._cache.get(where)
            if cached is not None and now - cached.read_at < DIRECTORY_TTL:
                return cached.workers
        records = engine.store.redis.hgetall(where)
        workers = []
        for text in records.values():
            try:
                record = json.loads(text)
            except ValueError:
                continue
            beat = float(record.get("last_heartbeat") or 0)
            if record.get("stopped") or now - beat > ACTIVE_WITHIN:
                continue
            served = record.get("workflows")
            workers.append(
                WorkerInfo(
                    id=str(record["id"]),
                    labels=dict(record.get("labels") or {}),
                    workflows=frozenset(served) if served is not None else None,
                )
            )
        with self._lock:
            self._cache[where] = Snapshot(now, workers)
        return workers


DIRECTORY = Directory()


# --- run options (trigger-time labels, sticky) ---------------------------------------------
class _Fresh:
    """Run options written by this process, so the roots it dispatches need no read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, RunRoute] = OrderedDict()

    def put(self, run_id: str, route: RunRoute) -> None:
        with self._lock:
            self._runs[run_id] = route
            if len(self._runs) > FRESH_RUNS:
                self._runs.popitem(last=False)

    def get(self, run_id: str) -> RunRoute | None:
        with self._lock:
            return self._runs.get(run_id)


FRESH = _Fresh()


def _trigger_labels(options: Any) -> list[DesiredWorkerLabel]:
    value = getattr(options, "desired_worker_label", None)
    return _labels(value) if value else []


def on_runs_created(engine: Engine, runs: list[tuple[str, Any]], ctx: Any) -> None:
    """Record trigger-time desired labels (``aff``) and the sticky worker (``sw``) in the
    runs' hashes, and in ``FRESH`` for the roots this process dispatches."""
    pipe = None
    for run_id, options in runs:
        labels = _trigger_labels(options)
        aff = json.dumps([d.model_dump(mode="json") for d in labels]) if labels else None
        sw: str | None = None
        if getattr(options, "sticky", False):
            sw = str(options.desired_worker_id or (ctx.worker_id if ctx is not None else ""))
        sw = sw or None
        FRESH.put(run_id, RunRoute(aff, sw))
        for field, value in (("aff", aff), ("sw", sw)):
            if value:
                pipe = pipe or engine.store.redis.pipeline(transaction=False)
                pipe.hset(engine.keys.run(run_id), field, value)
    if pipe is not None:
        pipe.execute()


# --- the gate ---------------------------------------------------------------------------------
@dataclass
class Route:
    """Where a task run goes: ``queue`` (None: the shared queue), or ``wait``."""

    queue: str | None = None
    wait: bool = False
    sticky_to: str | None = None  # set the run's sticky worker to this one


def route(engine: Engine, task: Task[Any, Any], aff: str | None, sw: str | None) -> Route:
    desired = list(task.desired_worker_labels)
    if aff:
        desired += [DesiredWorkerLabel.model_validate(d) for d in json.loads(aff)]
    mode = task.workflow.config.sticky
    sticky = getattr(mode, "value", mode) if mode is not None else ("SOFT" if sw else None)
    if not desired and sticky is None:
        # The workflow's own queue: only the workers that serve it consume it.
        return Route()
    live = DIRECTORY.live(engine)
    workers = [w for w in live if w.serves(task.workflow.name)]
    scored = [(s, w) for w in workers if (s := score(w.labels, desired)) is not None]
    if sw:
        for _, w in scored:
            if w.id == sw:
                return Route(worker_queue(engine, w.id))
        if sticky == "HARD":
            return Route(wait=True)
    if not scored:
        if desired and any(d.required for d in desired):
            return Route(wait=True)
        return Route(wait=sticky == "HARD" and not workers)
    best = max(s for s, _ in scored)
    chosen = random.choice([w for s, w in scored if s == best])
    return Route(
        worker_queue(engine, chosen.id), sticky_to=chosen.id if sticky and not sw else None
    )


class AffinityGate:
    name = "affinity"

    def applies(self, task: Task[Any, Any]) -> bool:
        return True  # trigger-time labels and sticky children can concern any task

    def admit(self, engine: Engine, task: Task[Any, Any], items: list[Ready]) -> list[Ready]:
        known = [i.route if i.route is not None else FRESH.get(i.run_id) for i in items]
        unknown = [i.run_id for i, o in zip(items, known, strict=True) if o is None]
        read = iter(flow.read_fields(engine, unknown, "aff", "sw") if unknown else [])
        options = [o if o is not None else RunRoute(*next(read)) for o in known]
        out: list[Ready] = []
        for item, (aff, sw) in zip(items, options, strict=True):
            decided = route(engine, task, aff, sw)
            if decided.sticky_to:
                decided = self._stick(engine, task, item, aff, decided)
            if decided.wait:
                self._park(engine, item, engine.now())
                continue
            item.queue = decided.queue
            out.append(item)
        return out

    @staticmethod
    def _stick(
        engine: Engine, task: Task[Any, Any], item: Ready, aff: str | None, decided: Route
    ) -> Route:
        """Make the chosen worker the run's sticky worker, unless another root was first."""
        key = engine.keys.run(item.run_id)
        if engine.store.redis.hsetnx(key, "sw", str(decided.sticky_to)):
            return decided
        return route(engine, task, aff, str(engine.store.redis.hget(key, "sw") or "") or None)

    @staticmethod
    def _park(engine: Engine, item: Ready, now: float) -> None:
        engine.store.script(
            "aff_park",
            [engine.keys.run(item.run_id), engine.keys.timers],
            [
                item.task,
                item.attempt,
                flow.WAIT_WORKER,
                AffinityRetry(item.attempt, item.run_id, item.task).member,
                now + RETRY_SECONDS,
            ],
        )


GATE = AffinityGate()


def retry_route(engine: Engine, entry: AffinityRetry, now: float) -> Outcome:
    """Route a parked task run again; fail it once its schedule timeout has passed."""
    attempt, run_id, task_name = entry.attempt, entry.run_id, entry.task
    redis = engine.store.redis
    wf_name, status, deadline, aff, sw, pr = (
        None if v is None else str(v)
        for v in redis.hmget(
            engine.keys.run(run_id), ["wf", f"s:{task_name}", f"x:{task_name}", "aff", "sw", "pr"]
        )
    )
    wf = engine.registry.workflows.get(wf_name or "")
    task = wf.task_map().get(task_name) if wf is not None else None
    if task is None:  # not declared here: offered again to a worker that declares it
        return Rearm(now + UNDECLARED_DELAY)
    waited = ": no worker matching its labels or sticky worker took it within its schedule_timeout"
    if flow.hold_is_over(engine, task, run_id, status, flow.WAIT_WORKER, deadline, now, waited):
        return DONE
    DIRECTORY.invalidate()
    decided = route(engine, task, aff, sw)
    if decided.wait:
        return Rearm(now + RETRY_SECONDS)
    # drops the timer as it wakes the task run, whose watchdog takes over
    woken = engine.store.script(
        "aff_wake",
        [engine.keys.run(run_id), engine.keys.timers],
        [entry.member, run_id, task_name, attempt, flow.WAIT_WORKER, flow.watch_at(now)],
    )
    if woken:
        item = Ready(
            str(wf_name),
            task_name,
            run_id,
            str(woken[0]),
            int(woken[1]),
            None,
            int(pr) if pr else None,
            decided.queue,
        )
        engine.dispatch([item], after=GATE)
    return DONE


# --- the worker side --------------------------------------------------------------------------
def consume_own_queue(engine: Engine) -> None:
    """Make this worker consume its own queue too (before its consumer starts)."""
    engine.app.amqp.queues.select_add(
        broker_compat.worker_queue(worker_queue(engine, PROCESS.worker_id))
    )


def delete_own_queue(engine: Engine) -> None:
    """A cleanly stopped worker leaves no queue behind (a crashed one's expires)."""
    broker_compat.delete_queue(engine.app, worker_queue(engine, PROCESS.worker_id))


def upsert_labels(engine: Engine, labels: dict[str, str | int]) -> None:
    """Change this worker's labels; routing everywhere sees them within a second."""
    PROCESS.labels.update(labels)
    engine.heartbeat(PROCESS)
    DIRECTORY.invalidate()
