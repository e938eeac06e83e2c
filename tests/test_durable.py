"""Durable tasks (§6): waits that hold no slot, checkpoints that replay, memo and now."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import (
    Context,
    DurableContext,
    EmptyModel,
    NonDeterminismError,
    SleepCondition,
    UserEventCondition,
    or_,
)
from hatchet_celery._runtime.waits.durable import PARKED
from hatchet_celery.testing import WorkerProcess
from tests.apps import hatchet

STARTS: Counter[str] = Counter()  # function starts per run id (replays count)
CHILD_STARTS: Counter[str] = Counter()


class Scoped(BaseModel):
    scope: str = ""


def _abandon_when_suspended(run_id: str, task: str, timeout: float = 10.0) -> None:
    """Drop the parked coroutine (as the sweeper does for a run resumed elsewhere), so the
    wake-up replays the function from the top, as on another worker."""
    engine = hatchet._registry.engine()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if engine.store.redis.hget(engine.keys.run(run_id), f"s:{task}") == "SUSPENDED":
            session = PARKED.take((run_id, task))
            if session is not None:
                session.abandon()
                return
        time.sleep(0.01)
    raise AssertionError(f"{task} of {run_id} never suspended")


@hatchet.durable_task(name="wd-sleep-twice", execution_timeout=timedelta(seconds=20))
async def wd_sleep_twice(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    STARTS[ctx.workflow_run_id] += 1
    now = await ctx.aio_now()
    first = await ctx.aio_sleep_for(timedelta(seconds=1))
    child = await wd_child.aio_run()
    await ctx.aio_sleep_for(timedelta(milliseconds=500))
    return {
        "now": now.isoformat(),
        "slept": first.duration.total_seconds(),
        "child": child,
        "starts": STARTS[ctx.workflow_run_id],
    }


@hatchet.task(name="wd-child")
def wd_child(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    CHILD_STARTS[ctx.parent_workflow_run_id or ""] += 1
    return {"child_run": ctx.workflow_run_id}


@hatchet.durable_task(
    name="wd-lookback", input_validator=Scoped, execution_timeout=timedelta(seconds=20)
)
async def wd_lookback(input: Scoped, ctx: DurableContext) -> dict[str, Any]:
    payload = await ctx.aio_wait_for_event(
        "wd:evt", scope=input.scope, lookback_window=timedelta(minutes=1)
    )
    return {"payload": payload}


@hatchet.durable_task(name="wd-or", input_validator=Scoped)
async def wd_or(input: Scoped, ctx: DurableContext) -> dict[str, Any]:
    res = await ctx.aio_wait_for(
        "or",
        or_(
            SleepCondition(timedelta(seconds=1)),
            UserEventCondition(event_key="wd:or", scope=input.scope),
        ),
    )
    return res


@hatchet.durable_task(name="wd-nondeterminism", retries=1)
async def wd_nondeterminism(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    try:
        if ctx.retry_count == 0:
            await ctx.aio_sleep_for(timedelta(milliseconds=200))
            raise RuntimeError("first attempt fails after its checkpoint")
        await ctx.aio_wait_for_event("wd:never")
    except NonDeterminismError as exc:
        return {"node": exc.node_id, "attempt": ctx.attempt_number}
    return {"node": None}


def test_sleep_checkpoint_and_replay(worker: Any) -> None:
    """A replay (the parked coroutine dropped) returns stored checkpoints, the same memoized
    now and the same child run; the child is not spawned again."""
    ref = wd_sleep_twice.run(wait_for_result=False)
    run_id = ref.workflow_run_id
    start = time.time()
    _abandon_when_suspended(run_id, "wd-sleep-twice")
    result = ref.result()
    assert result["slept"] == 1.0
    assert result["starts"] == 2  # replayed once, from the top
    assert time.time() - start >= 1.5
    assert CHILD_STARTS[run_id] == 1
    engine = hatchet._registry.engine()
    stored = engine.store.redis.hgetall(engine.keys.run(run_id))
    assert {k for k in stored if k.startswith("cp:")} == {
        "cp:wd-sleep-twice:1",
        "cp:wd-sleep-twice:2",
    }


def test_resume_in_place_keeps_local_state(worker: Any) -> None:
    ref = wd_sleep_twice.run(wait_for_result=False)
    result = ref.result()
    assert result["starts"] == 1  # resumed in place, never replayed
    assert CHILD_STARTS[ref.workflow_run_id] == 1


def test_event_lookback_before_wait(worker: Any) -> None:
    scope = uuid.uuid4().hex
    hatchet.event.push("wd:evt", {"order": "first"}, scope=scope)
    hatchet.event.push("wd:evt", {"order": "other"}, scope="another-" + scope)
    # the event pushed before the wait is found by its lookback (else the run would wait
    # for a push that never comes)
    result = wd_lookback.run(Scoped(scope=scope))
    assert result["payload"] == {"order": "first"}


def test_no_event_is_lost_while_waits_register(worker: Any) -> None:
    """Events pushed at every moment around the registration of the waits all land."""
    scopes = [uuid.uuid4().hex for _ in range(20)]

    async def main() -> list[Any]:
        refs = []
        for i, scope in enumerate(scopes):
            refs.append(await wd_lookback.aio_run(Scoped(scope=scope), wait_for_result=False))
            if i % 2:
                await hatchet.event.aio_push("wd:evt", {"i": i}, scope=scope)
        await asyncio.sleep(0.05)
        for i, scope in enumerate(scopes):
            if not i % 2:
                await hatchet.event.aio_push("wd:evt", {"i": i}, scope=scope)
        return await asyncio.wait_for(asyncio.gather(*(r.aio_result() for r in refs)), 30)

    results = asyncio.run(main())
    assert [r["payload"]["i"] for r in results] == list(range(20))


def test_or_group_sleep_or_event(worker: Any) -> None:
    assert "sleep:1s" in wd_or.run(Scoped(scope=uuid.uuid4().hex))["CREATE"]
    scope = uuid.uuid4().hex
    ref = wd_or.run(Scoped(scope=scope), wait_for_result=False)
    engine = hatchet._registry.engine()
    deadline = time.time() + 10
    while engine.store.redis.hget(engine.keys.run(ref.workflow_run_id), "s:wd-or") != "SUSPENDED":
        assert time.time() < deadline
        time.sleep(0.01)
    hatchet.event.push("wd:or", {"v": 1}, scope=scope)
    assert ref.result()["CREATE"] == {"wd:or": [{"v": 1}]}


def test_replay_that_takes_another_path_raises_non_determinism(worker: Any) -> None:
    result = wd_nondeterminism.run()
    assert result == {"node": 1, "attempt": 2}


def test_scope_and_lookback_go_together() -> None:
    from hatchet_celery.durable import DurableContext as DC

    ctx = DC.__new__(DC)
    with pytest.raises(ValueError, match="together"):
        asyncio.run(ctx.aio_wait_for_event("k", scope="s"))


@pytest.fixture()
def waits_env() -> dict[str, str]:
    return {"HATCHET_CELERY_LEASE_SECONDS": "3"}


def test_waiting_durable_tasks_hold_no_slot(waits_env: dict[str, str]) -> None:
    """50 tasks sleeping 3 s on a 2-slot worker: far less than the 75 s slots would take."""
    from tests.apps.waits_durable import waits_sleeper

    with WorkerProcess("tests.apps.waits_durable:hatchet", slots=2, env=waits_env) as proc:
        start = time.time()
        refs = waits_sleeper.run_many(
            [waits_sleeper.create_bulk_run_item() for _ in range(50)], wait_for_result=False
        )
        results = [r.result() for r in refs]
        elapsed = time.time() - start
    assert len(results) == 50 and all(r["pid"] == proc.pid for r in results)
    assert elapsed < 20, elapsed


def test_killed_worker_durable_runs_finish_elsewhere(waits_env: dict[str, str]) -> None:
    """SIGKILL a worker while its durable tasks wait: another worker finishes them with
    their checkpoints (memo stored before the kill, the sleep already registered)."""
    from tests.apps.waits_durable import hatchet as waits_hatchet
    from tests.apps.waits_durable import waits_crash

    engine = waits_hatchet._registry.engine()
    first = WorkerProcess("tests.apps.waits_durable:hatchet", slots=4, env=waits_env).start()
    try:
        refs = waits_crash.run_many(
            [waits_crash.create_bulk_run_item() for _ in range(5)], wait_for_result=False
        )
        started = time.time()
        deadline = started + 15
        ids = [r.workflow_run_id for r in refs]
        while any(
            engine.store.redis.hget(engine.keys.run(i), "s:waits-crash") != "SUSPENDED" for i in ids
        ):
            assert time.time() < deadline
            time.sleep(0.02)
        first.kill()
    finally:
        first.kill()
    with WorkerProcess("tests.apps.waits_durable:hatchet", slots=4, env=waits_env) as second:
        second_ready = time.time()
        results = [r.result() for r in refs]
    for result in results:
        assert result["started_pid"] == str(first.pid)  # the memo from before the kill
        assert result["pid"] == str(second.pid)  # replayed on the second worker
        # the 4 s sleep kept its first registration: a sleep started again on the second
        # worker would end 4 s after it was ready, at the earliest
        assert result["finished"] < second_ready + 4, (result, second_ready)
    assert os.getpid() not in (first.pid, second.pid)
