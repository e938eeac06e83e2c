"""Every timer kind survives a crash of the pump handling it: the run still ends.

For each kind a run arms a timer of that kind; the pump handling it is made to crash once
(``TimerPump.faults``), either right after claiming it (``claimed``: before its handler)
or after the handler's work and before the pump removes or re-arms it (``handled``). The
entry stays claimed; with a short claim lease it is due again at once, handled a second
time (so this also shows each handler is idempotent), and the run reaches its final
status. The session worker's own pump crashes (its lease shortened for the test); the
``w`` kind, whose timer only fires for a task run nobody picks up, is driven by pumps
of this process on a namespace no worker serves, with the time passed in.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hatchet_celery import (
    ClientConfig,
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    Context,
    DesiredWorkerLabel,
    DurableContext,
    EmptyModel,
    Hatchet,
    RateLimit,
    SleepCondition,
    UserEventCondition,
)
from hatchet_celery._runtime.timing.timer_kinds import TIMER_KINDS
from hatchet_celery._runtime.timing.timers import TimerPump
from hatchet_celery._runtime.waits.store import Met
from hatchet_celery._runtime.worker.services import WorkerServices
from hatchet_celery._timer_entries import (
    BatchFlush,
    ConcurrencySweep,
    EventRecovery,
    PauseExpiry,
    SleepDue,
    kind_of,
)
from hatchet_celery.rate_limit import RateLimitDuration
from hatchet_celery.runnables.eviction import EvictionPolicy
from hatchet_celery.runnables.types import BatchMemberId
from tests.apps import hatchet

STEPS = ("claimed", "handled")
LEASE = 0.3  # the crashed entry is due again this soon
TIMEOUT = 30.0


class Crash(Exception):
    """The pump 'dies' here."""


class Faults:
    """A ``TimerPump.faults`` hook: crash once at a step, on the first member matching."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: tuple[str, Callable[[str], bool]] | None = None
        self.crashed: list[str] = []

    def arm(self, step: str, match: Callable[[str], bool]) -> None:
        with self._lock:
            self._armed = (step, match)
            self.crashed.clear()

    def __call__(self, step: str, member: str) -> None:
        with self._lock:
            if self._armed is None or self._armed[0] != step or not self._armed[1](member):
                return
            self._armed = None
            self.crashed.append(member)
        raise Crash(f"the pump dies at {step!r} of {member!r}")


def _status(h: Hatchet, run_id: str) -> str | None:
    state = h._registry.client().fetch(run_id)
    return None if state is None else state.status


def wait_run(h: Hatchet, run_id: str, *statuses: str, timeout: float = TIMEOUT) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = _status(h, run_id)
        if status in statuses:
            return status
        assert time.monotonic() < deadline, f"run {run_id} is {status}, waited for {statuses}"
        time.sleep(0.02)


def wait_until(check: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return value


# --- the workflows, one (or two) per kind ---------------------------------------------------
@hatchet.task(name="tcx-retry", retries=1)
def tcx_retry(input: EmptyModel, ctx: Context) -> dict[str, int]:
    if ctx.retry_count == 0:
        raise RuntimeError("the first attempt fails: a retry is dispatched by a 'd' timer")
    return {"attempt": ctx.retry_count}


@hatchet.task(name="tcx-scheduled")
def tcx_scheduled(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "yes"}


tcx_sleep = hatchet.workflow(name="tcx-sleep")
tcx_cond = hatchet.workflow(name="tcx-cond")


@tcx_sleep.task(name="sleeps", wait_for=[SleepCondition(timedelta(milliseconds=200))])
def sleeps(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "yes"}


@tcx_cond.task(name="waits", wait_for=[UserEventCondition(event_key="tcx:cond")])
def waits(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "yes"}


@hatchet.task(name="tcx-on-event", on_events=["tcx:ev"])
def tcx_on_event(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "yes"}


@hatchet.task(
    name="tcx-conc",
    concurrency=ConcurrencyExpression(
        expression="'one'", max_runs=1, limit_strategy=ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN
    ),
)
def tcx_conc(input: EmptyModel, ctx: Context) -> dict[str, str]:
    # held until the gate's sweep has run (5 s after arrival), so the sweep meets a holder
    wait_until(lambda: FAULTS.crashed, "the sweep to crash", timeout=20)
    return {"ok": "yes"}


@hatchet.task(name="tcx-paused")
def tcx_paused(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "yes"}


@hatchet.task(
    name="tcx-rl",
    rate_limits=[RateLimit(static_key="tcx-rl", units=1)],
)
def tcx_rl(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "yes"}


@hatchet.task(
    name="tcx-rq",
    rate_limits=[RateLimit(static_key="tcx-never-put", units=1)],
    schedule_timeout=timedelta(seconds=1),
)
def tcx_rq(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "never"}


@hatchet.task(
    name="tcx-aw",
    desired_worker_labels={"tcx": DesiredWorkerLabel(value="nobody", required=True)},
    schedule_timeout=timedelta(seconds=1),
)
def tcx_aw(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "never"}


@hatchet.task(name="tcx-child")
async def tcx_child(input: EmptyModel, ctx: Context) -> dict[str, str]:
    await asyncio.sleep(1.5)  # still running when its parent is evicted
    return {"child": "done"}


@hatchet.durable_task(
    name="tcx-parent",
    execution_timeout=timedelta(seconds=30),
    eviction_policy=EvictionPolicy(ttl=timedelta(milliseconds=300), allow_capacity_eviction=False),
)
async def tcx_parent(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    return {"child": await tcx_child.aio_run()}


@hatchet.batch_task(
    name="tcx-batch", batch_max_size=50, batch_max_interval=timedelta(milliseconds=200)
)
def tcx_batch(tasks: dict[BatchMemberId, EmptyModel], ctx: Context) -> dict[BatchMemberId, Any]:
    return {i: {"size": len(tasks)} for i in tasks}


# The 'w' kind: a task nobody picks up, on a namespace no worker serves.
idle = Hatchet(config=ClientConfig(namespace="tcx_idle"))


@idle.task(name="tcx-unpicked", schedule_timeout=timedelta(seconds=1))
def tcx_unpicked(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "never"}


FAULTS = Faults()


# --- scenarios: arm the fault for the run's timer, start the run, return what ends ---------
@dataclass
class Ends:
    run_id: str
    status: str


def _of_run(kind: str, run_id: str) -> Callable[[str], bool]:
    return lambda m: kind_of(m) == kind and run_id in m.split("|")


def _of_task(kind: str, task: str) -> Callable[[str], bool]:
    return lambda m: kind_of(m) == kind and m.endswith(f"|{task}")


def d(step: str) -> Ends:
    FAULTS.arm(step, _of_task("d", "tcx-retry"))
    return Ends(tcx_retry.run_no_wait().workflow_run_id, "COMPLETED")


def s(step: str) -> Ends:
    FAULTS.arm(step, lambda m: kind_of(m) == "s")  # no other scheduled run is due now
    at = datetime.now(UTC) + timedelta(milliseconds=200)
    row = hatchet.scheduled.create("tcx-scheduled", at, {}, {})
    run_id = wait_until(
        lambda: hatchet.scheduled.get(row.metadata.id).workflow_run_id, "the scheduled run"
    )
    return Ends(str(run_id), "COMPLETED")


def wsl(step: str) -> Ends:
    FAULTS.arm(step, lambda m: kind_of(m) == "wsl" and SleepDue.decode(m).task == "sleeps")
    return Ends(tcx_sleep.run_no_wait().workflow_run_id, "COMPLETED")


def wdx(step: str) -> Ends:
    ref = tcx_cond.run_no_wait()
    run_id = ref.workflow_run_id
    wait_until(lambda: _task(run_id, "waits") == "WAITING", "the wait")
    FAULTS.arm(step, _of_run("wdx", run_id))
    engine = hatchet._registry.engine()
    spec = json.loads(engine.store.redis.hget(engine.keys.run(run_id), "cw:waits"))
    [cond] = spec["conds"]
    met = Met(run_id, "waits", spec["wid"], cond["id"], "{}", cond["ek"], cond["m"])
    # what a process that met the wait and died before carrying the decision out left (or
    # one lacking the task's code): a worker's 'wdx' timer, due now, carries it out
    engine.store.script("cond_satisfy", *met.script_call(engine, local=False))
    return Ends(run_id, "COMPLETED")


def wev(step: str) -> Ends:
    engine = hatchet._registry.engine()
    keys, now = engine.keys, engine.now()
    event_id, key = str(uuid.uuid4()), hatchet.config.apply_namespace("tcx:ev")
    doc = {"id": event_id, "key": key, "payload": {}, "metadata": {}, "ts": now}
    FAULTS.arm(step, lambda m: m == EventRecovery(event_id).member)
    engine.store.script(  # what a pusher that died right after storing its event left
        "event_push",
        [keys.event_data, keys.events, keys.events_by_key(key), keys.event_waiters(key)]
        + [keys.timers],
        [event_id, json.dumps(doc), now, now - 3600, now],
    )
    name = hatchet.config.apply_namespace("tcx-on-event")
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hatchet-celery:event:{event_id}:{name}:0"))
    return Ends(run_id, "COMPLETED")


def cs(step: str) -> Ends:
    FAULTS.arm(
        step, lambda m: kind_of(m) == "cs" and ConcurrencySweep.decode(m).key.endswith("tcx-conc")
    )
    return Ends(tcx_conc.run_no_wait().workflow_run_id, "COMPLETED")


def pz(step: str) -> Ends:
    FAULTS.arm(step, lambda m: m == PauseExpiry(tcx_paused.name).member)
    tcx_paused.pause(queue_ttl=timedelta(milliseconds=300))
    return Ends(tcx_paused.run_no_wait().workflow_run_id, "CANCELLED")


def rl(step: str) -> Ends:
    hatchet.rate_limits.put("tcx-rl", 1, RateLimitDuration.SECOND)
    FAULTS.arm(step, _of_task("rl", "tcx-rl"))
    # one unit a second, two runs through the gate at one instant: one of them waits for
    # the next second, on an 'rl' timer
    first, second = tcx_rl.run_many_no_wait([tcx_rl.create_bulk_run_item() for _ in "ab"])
    wait_run(hatchet, first.workflow_run_id, "COMPLETED")
    return Ends(second.workflow_run_id, "COMPLETED")


def rq(step: str) -> Ends:
    FAULTS.arm(step, _of_task("rq", "tcx-rq"))
    return Ends(tcx_rq.run_no_wait().workflow_run_id, "FAILED")


def aw(step: str) -> Ends:
    FAULTS.arm(step, _of_task("aw", "tcx-aw"))
    return Ends(tcx_aw.run_no_wait().workflow_run_id, "FAILED")


def dvc(step: str) -> Ends:
    FAULTS.arm(step, _of_task("dvc", "tcx-parent"))
    return Ends(tcx_parent.run_no_wait().workflow_run_id, "COMPLETED")


def bf(step: str) -> Ends:
    FAULTS.arm(step, lambda m: kind_of(m) == "bf" and BatchFlush.decode(m).task == "tcx-batch")
    return Ends(tcx_batch.run_no_wait().workflow_run_id, "COMPLETED")


def _task(run_id: str, task: str) -> str | None:
    state = hatchet._registry.client().fetch(run_id)
    return None if state is None or task not in state.tasks else state.tasks[task].status


SCENARIOS: dict[str, Callable[[str], Ends]] = {
    f.__name__: f for f in (d, s, wsl, wdx, wev, cs, pz, rl, rq, aw, dvc, bf)
}


def test_every_timer_kind_has_a_scenario() -> None:
    assert set(SCENARIOS) | {"w"} == set(TIMER_KINDS)


@pytest.fixture
def crashing_pump(worker: Any) -> Iterator[TimerPump]:
    """The session worker's pump, crashing where ``FAULTS`` says, with a short lease."""
    services = next(
        s
        for s in (getattr(step, "services", None) for step in worker.blueprint.order)
        if isinstance(s, WorkerServices)
    )
    pump = services.pump
    assert pump is not None
    saved = pump.lease, pump.faults
    pump.lease, pump.faults = LEASE, FAULTS
    try:
        yield pump
    finally:
        pump.lease, pump.faults = saved
        FAULTS.arm("", lambda m: False)
        tcx_paused.unpause()


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_a_crash_of_the_pump_does_not_strand_the_run(
    crashing_pump: TimerPump, kind: str, step: str
) -> None:
    ends = SCENARIOS[kind](step)
    assert wait_run(hatchet, ends.run_id, "COMPLETED", "FAILED", "CANCELLED") == ends.status
    # it did crash there, once (at "handled" the run may end just before the pump's crash)
    wait_until(lambda: FAULTS.crashed, f"the pump to crash at {step!r}")
    assert [kind_of(m) for m in FAULTS.crashed] == [kind]


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_handling_a_watchdog_does_not_strand_the_run(step: str) -> None:
    engine = idle._registry.engine()
    run_id = tcx_unpicked.run_no_wait().workflow_run_id
    member = f"w|0|{run_id}|tcx-unpicked"
    assert engine.store.redis.zscore(engine.keys.timers, member) is not None
    faults = Faults()
    faults.arm(step, lambda m: m == member)
    later = time.time() + 5  # past the 1 s schedule timeout
    with pytest.raises(Crash):
        TimerPump(engine, TIMER_KINDS, lease=LEASE, faults=faults).run_once(later)
    if step == "claimed":  # crashed before its handler: left claimed, due a lease later
        assert _status(idle, run_id) == "QUEUED"
        due = engine.store.redis.zscore(engine.keys.timers, member)
        assert due == pytest.approx(later + LEASE, abs=1e-3)
    else:  # after its handler failed the task run (fail.lua dropped the watchdog with it)
        assert _status(idle, run_id) == "FAILED"
    TimerPump(engine, TIMER_KINDS).run_once(later + LEASE)  # a fresh pump, once it is due
    assert wait_run(idle, run_id, "FAILED", timeout=5) == "FAILED"
    assert engine.store.redis.zscore(engine.keys.timers, member) is None
