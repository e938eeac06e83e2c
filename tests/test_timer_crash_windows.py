"""A process that dies inside a timer handler never strands a run.

The pump claims a due timer (moving it a claim lease ahead) and hands it to its handler;
the handler acts, and only then drops the timer. A crash between the two leaves the timer,
which a later pass takes again, and the run still ends. Here the crash is an exception
injected into the handler's action (the same window as a SIGKILL there), and the pump is
driven with the time passed in, so nothing waits for real seconds.

Covered: ``aw`` (no worker with the required labels until the schedule timeout), ``rq``
(a static rate-limit key never put, until the schedule timeout), ``wdx`` (a conditions
decision whose carrying out failed, taken again by the recovery timer).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from hatchet_celery import (
    ClientConfig,
    Context,
    DesiredWorkerLabel,
    EmptyModel,
    Hatchet,
    RateLimit,
    SleepCondition,
)
from hatchet_celery._runtime.flow import common as flow
from hatchet_celery._runtime.flow import conditions
from hatchet_celery._runtime.timing.timer_kinds import TIMER_KINDS
from hatchet_celery._runtime.timing.timers import CLAIM_LEASE, TimerPump

hatchet = Hatchet(config=ClientConfig(namespace="crashwin"))


@hatchet.task(
    name="needs_gpu",
    desired_worker_labels={"gpu": DesiredWorkerLabel(value="yes", required=True)},
    schedule_timeout=timedelta(seconds=2),
)
def needs_gpu(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {}


@hatchet.task(
    name="needs_units",
    rate_limits=[RateLimit(static_key="crashwin-never-put", units=1)],
    schedule_timeout=timedelta(seconds=2),
)
def needs_units(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {}


sleepy = hatchet.workflow(name="sleepy")


@sleepy.task(name="sleeps_first", wait_for=[SleepCondition(timedelta(seconds=1))])
def sleeps_first(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {}


def wait_status(run_id: str, task: str, status: str) -> None:
    client = hatchet._registry.client()
    deadline = time.monotonic() + 30
    while True:
        state = client.fetch(run_id)
        if state is not None and state.tasks[task].status == status:
            return
        assert time.monotonic() < deadline, state
        time.sleep(0.02)


class Crash(Exception):
    pass


@pytest.mark.parametrize(
    ("runnable", "task", "waiting", "kind"),
    [
        (needs_gpu, "needs_gpu", "WAIT_WORKER", "aw"),
        (needs_units, "needs_units", "WAIT_RATE_LIMIT", "rq"),
    ],
)
def test_a_crash_in_the_schedule_timeout_handler_leaves_the_timer(
    monkeypatch: pytest.MonkeyPatch, runnable: Any, task: str, waiting: str, kind: str
) -> None:
    engine = hatchet._registry.engine()
    redis = engine.store.redis
    run_id = runnable.run_no_wait().workflow_run_id
    wait_status(run_id, task, waiting)
    member = f"{kind}|0|{run_id}|{task}"
    assert redis.zscore(engine.keys.timers, member) is not None

    def crash(*_: Any) -> None:
        raise Crash("the process dies here")

    later = time.time() + 10  # past the 2 s schedule timeout
    monkeypatch.setattr(flow, "fail_held", crash)
    TimerPump(engine, TIMER_KINDS).run_once(later)  # the handler raises half-way
    assert client_status(run_id, task) == waiting
    # the timer is still there, a claim lease ahead: a later pass takes it again
    assert abs(redis.zscore(engine.keys.timers, member) - (later + CLAIM_LEASE)) < 1

    monkeypatch.undo()
    TimerPump(engine, TIMER_KINDS).run_once(later + CLAIM_LEASE + 1)
    assert client_status(run_id, task) == "FAILED"
    assert redis.zscore(engine.keys.timers, member) is None
    with pytest.raises(Exception, match="SCHEDULING_TIMED_OUT"):
        hatchet.runs.get_run_ref(run_id).result()


def client_status(run_id: str, task: str) -> str:
    state = hatchet._registry.client().fetch(run_id)
    assert state is not None
    return str(state.tasks[task].status)


def test_a_crash_while_carrying_out_a_condition_decision_leaves_its_recovery_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = hatchet._registry.engine()
    redis = engine.store.redis
    run_id = sleepy.run_no_wait().workflow_run_id
    wait_status(run_id, "sleeps_first", "WAITING")
    member = f"wdx|{run_id}|sleeps_first"

    def crash(*_: Any) -> None:
        raise Crash("the process dies here")

    monkeypatch.setattr(conditions, "carry_out_decision", crash)
    later = time.time() + 5  # the 1 s sleep is over: the decision is QUEUE
    TimerPump(engine, TIMER_KINDS).run_once(later)  # decided, then the carrying out fails
    assert redis.zscore(engine.keys.timers, member) is not None
    TimerPump(engine, TIMER_KINDS).run_once(later + 60)  # the recovery timer fails the same way
    assert abs(redis.zscore(engine.keys.timers, member) - (later + 60 + CLAIM_LEASE)) < 1

    monkeypatch.undo()
    published: list[str] = []
    publish = engine.publish_ready

    def observed(ready: Any) -> None:  # the real publish, seen by the test
        ready = list(ready)
        published.extend(r.run_id for r in ready)
        publish(ready)

    monkeypatch.setattr(engine, "publish_ready", observed)
    TimerPump(engine, TIMER_KINDS).run_once(later + 60 + CLAIM_LEASE + 1)
    assert run_id in published  # the decision (QUEUE) was carried out at last
    assert client_status(run_id, "sleeps_first") == "QUEUED"
    assert redis.zscore(engine.keys.timers, member) is None
