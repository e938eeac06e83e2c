"""Task conditions (§7): wait_for / skip_if / cancel_if on sleeps, events and parents."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from hatchet_celery import (
    Context,
    EmptyModel,
    ParentCondition,
    SleepCondition,
    UserEventCondition,
    or_,
)
from hatchet_celery.exceptions import DeclarationError
from hatchet_celery.testing.waiting import wait_for_task_status
from tests.apps import hatchet

# --- a sleep holds a task; parents settle skip and cancel -------------------------------------
wc_dag = hatchet.workflow(name="wc-dag")


@wc_dag.task()
def wc_start(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"n": 7, "at": time.time()}


@wc_dag.task(parents=[wc_start], wait_for=[SleepCondition(timedelta(seconds=1))])
def wc_slept(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"at": time.time()}


@wc_dag.task(
    parents=[wc_start], skip_if=[ParentCondition(parent=wc_start, expression="output.n > 5")]
)
def wc_skipped(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"ran": True}


@wc_dag.task(
    parents=[wc_start], skip_if=[ParentCondition(parent=wc_start, expression="output.n > 50")]
)
def wc_not_skipped(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"ran": True}


@wc_dag.task(parents=[wc_skipped, wc_slept])
def wc_after_skip(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"parent_skipped": ctx.was_skipped(wc_skipped)}


wc_cancel = hatchet.workflow(name="wc-cancel")


@wc_cancel.task()
def wc_cancel_start(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"n": 2}


@wc_cancel.task(
    parents=[wc_cancel_start],
    cancel_if=[ParentCondition(parent=wc_cancel_start, expression="output.n > 1")],
)
def wc_cancelled(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"ran": True}


@wc_cancel.task(parents=[wc_cancelled])
def wc_cancel_downstream(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"ran": True}


# --- a sleep racing an event ---------------------------------------------------------------
wc_race = hatchet.workflow(name="wc-race")


@wc_race.task()
def wc_race_start(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {}


@wc_race.task(
    parents=[wc_race_start],
    wait_for=[
        UserEventCondition(
            event_key="wc:proceed",
            scope=None,
            expression="input.run == additional_metadata.run || true",
        )
    ],
    skip_if=[SleepCondition(timedelta(seconds=2))],
)
def wc_race_target(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"ran": True}


wc_cancel_event = hatchet.workflow(name="wc-cancel-event")


@wc_cancel_event.task()
def wc_ce_start(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {}


@wc_cancel_event.task(
    parents=[wc_ce_start],
    wait_for=[
        or_(
            SleepCondition(timedelta(seconds=30)),
            UserEventCondition(event_key="wc:go", expression="input.ok == true"),
        )
    ],
    cancel_if=[UserEventCondition(event_key="wc:abort")],
)
def wc_ce_target(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"ran": True}


@wc_cancel_event.task(parents=[wc_ce_target])
def wc_ce_downstream(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"ran": True}


def _run_state(run_id: str) -> Any:
    return hatchet._registry.client().fetch(run_id)


def _wait_status(run_id: str, task: str, status: str, timeout: float = 10.0) -> None:
    wait_for_task_status(hatchet, run_id, task, status, timeout=timeout)


def test_sleep_holds_task_and_parents_settle_skip(worker: Any) -> None:
    result = wc_dag.run()
    assert result["wc_slept"]["at"] - result["wc_start"]["at"] >= 1.0
    assert result["wc_skipped"] == {"skipped": True}
    assert result["wc_not_skipped"] == {"ran": True}
    assert result["wc_after_skip"] == {"parent_skipped": True}


def test_cancel_if_parent_cancels_task_descendants_and_run(worker: Any) -> None:
    ref = wc_cancel.run(wait_for_result=False)
    hatchet._registry.engine().waiter.wait(ref.workflow_run_id).result(15)
    state = _run_state(ref.workflow_run_id)
    assert state.status == "CANCELLED"
    assert state.tasks["wc_cancelled"].status == "CANCELLED"
    assert "wc_cancel_downstream" not in state.tasks  # blocked: never ran


def test_sleep_wins_the_race_when_no_event_comes(worker: Any) -> None:
    start = time.time()
    result = wc_race.run()
    assert result["wc_race_target"] == {"skipped": True}
    assert time.time() - start >= 2.0


def test_event_wins_the_race_when_it_comes_first(worker: Any) -> None:
    ref = wc_race.run(wait_for_result=False)
    _wait_status(ref.workflow_run_id, "wc_race_target", "WAITING")
    hatchet.event.push("wc:proceed", {"run": ref.workflow_run_id})
    result = ref.result()
    assert result["wc_race_target"] == {"ran": True}


def test_or_group_event_queues_and_cancel_if_event_cancels(worker: Any) -> None:
    go = wc_cancel_event.run(wait_for_result=False)
    _wait_status(go.workflow_run_id, "wc_ce_target", "WAITING")
    hatchet.event.push("wc:go", {"ok": False})  # the expression is false: nothing happens
    time.sleep(0.3)
    assert _run_state(go.workflow_run_id).tasks["wc_ce_target"].status == "WAITING"
    start = time.time()
    hatchet.event.push("wc:go", {"ok": True})
    assert go.result()["wc_ce_downstream"] == {"ran": True}
    assert time.time() - start < 10  # not the 30 s sleep
    abort = wc_cancel_event.run(wait_for_result=False)
    _wait_status(abort.workflow_run_id, "wc_ce_target", "WAITING")
    hatchet.event.push("wc:abort", {})
    hatchet._registry.engine().waiter.wait(abort.workflow_run_id).result(15)
    state = _run_state(abort.workflow_run_id)
    assert state.status == "CANCELLED"
    assert "wc_ce_downstream" not in state.tasks


def test_event_pushed_after_ready_but_before_registration_counts(worker: Any) -> None:
    """The gate's lookback starts when the task became ready, not when it registered."""
    from hatchet_celery._runtime.waits.store import Wait, WaitCondition, register

    engine = hatchet._registry.engine()
    ref = wc_race.run(wait_for_result=False)
    _wait_status(ref.workflow_run_id, "wc_race_target", "WAITING")
    # Simulate the window: an event stored, then a (new) registration of the same wait
    # with a lookback start before it: the registration must see the event.
    key = f"wc:window:{uuid.uuid4()}"
    since = engine.now()
    hatchet.event.push(key, {})
    wait = Wait(
        run_id=ref.workflow_run_id,
        task="wc_race_target",
        workflow=wc_race.name,
        wid="late",
        mode="gate",
        schedule_timeout=300,
        since=since,
        conditions=[
            WaitCondition(
                id="0",
                kind="event",
                action="QUEUE",
                group="g",
                key=key,
                event_key=hatchet.config.apply_namespace(key),
            )
        ],
    )
    redis = engine.store.redis
    run_key = engine.keys.run(ref.workflow_run_id)
    redis.hset(run_key, "s:wc_race_target", "QUEUED")  # as if just released
    redis.hdel(run_key, "cw:wc_race_target")
    assert register(engine, wait, "0", engine.now())
    assert ref.result()["wc_race_target"] == {"ran": True}


def test_condition_keys_must_be_unique() -> None:
    wf = hatchet.workflow(name=f"wc-dupes-{uuid.uuid4().hex[:6]}")
    with pytest.raises(DeclarationError, match="sleep:10s"):

        @wf.task(
            wait_for=[SleepCondition(timedelta(seconds=10))],
            skip_if=[SleepCondition(timedelta(seconds=10))],
        )
        def dupes(input: EmptyModel, ctx: Context) -> None:
            return None
