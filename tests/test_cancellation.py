"""Cancelling runs and task runs: queued, running (sync and async), from inside a task,
with children; what the caller of ``result()`` sees; what is released."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from hatchet_celery import (
    ClientConfig,
    Context,
    DurableContext,
    EmptyModel,
    Hatchet,
    RunStatus,
    V1TaskStatus,
)
from hatchet_celery.exceptions import RunCancelledError
from hatchet_celery.testing import WorkerProcess
from hatchet_celery.testing.waiting import wait_for_run_status
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")

MARKS = "ops_cancel_marks"


def _mark(redis_url: str, value: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.rpush(MARKS, value)
    client.close()


@hatchet.task(name="ops_async_sleeper")
async def ops_async_sleeper(input: EmptyModel, ctx: Context) -> dict[str, str]:
    import os

    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        _mark(os.environ["HATCHET_CELERY_REDIS_URL"], ctx.workflow_run_id)
        raise
    return {"slept": "fully"}


ops_selfcancel = hatchet.workflow(name="ops_selfcancel")


@ops_selfcancel.task()
async def ops_quitter(input: EmptyModel, ctx: Context) -> dict[str, str]:
    await ctx.aio_cancel()
    await asyncio.sleep(10)
    return {"error": "should have been cancelled"}


@ops_selfcancel.task(parents=[ops_quitter])
def ops_after_quitter(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"error": "a cancelled parent's child must not run"}


@ops_selfcancel.task()
def ops_sibling(input: EmptyModel, ctx: Context) -> dict[str, str]:
    time.sleep(0.3)
    return {"sibling": "done"}


@hatchet.task(name="ops_parent_of_sleeper")
async def ops_parent_of_sleeper(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"child": await ops_async_sleeper.aio_run()}


@hatchet.durable_task(name="ops_durable_napper")
async def ops_durable_napper(input: EmptyModel, ctx: DurableContext) -> dict[str, str]:
    await ctx.aio_sleep_for(timedelta(seconds=1))
    return {"woke": "up"}


# Declared on a namespace no worker serves: its runs stay QUEUED.
unserved = Hatchet(config=ClientConfig(namespace="ops_unserved"))


@unserved.task(name="ops_never_runs")
def ops_never_runs(input: EmptyModel, ctx: Context) -> None:
    return None


def _wait_status(run_id: str, status: RunStatus, timeout: float = 15.0) -> None:
    wait_for_run_status(hatchet, run_id, status.value, timeout=timeout)


def _output(app: Hatchet, run_id: str, task: str, timeout: float = 15.0) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        details = app.runs.get_details(run_id)
        if details.done:
            return details.task_runs[task].output
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} did not finish")


def _run_keys(redis_client: Any, member_part: str, key: str) -> list[str]:
    return [m for m in redis_client.zrange(key, 0, -1) if member_part in m]


def test_cancel_a_queued_run_releases_its_timers(redis_client: Any) -> None:
    ref = ops_never_runs.run(wait_for_result=False)
    run_id = ref.workflow_run_id
    keys = unserved._registry.engine().keys
    assert _run_keys(redis_client, run_id, keys.timers), "a queued task has a watchdog timer"
    unserved.runs.cancel(run_id)
    details = unserved.runs.get_details(run_id)
    assert details.status == RunStatus.CANCELLED and details.done
    assert details.task_runs["ops_never_runs"].status == V1TaskStatus.CANCELLED
    assert _run_keys(redis_client, run_id, keys.timers) == []
    assert unserved.runs.list(statuses=[V1TaskStatus.CANCELLED], limit=1000).rows[0].metadata.id


def test_cancel_a_running_async_task_cancels_its_coroutine(redis_client: Any) -> None:
    ref = ops_async_sleeper.run(wait_for_result=False)
    run_id = ref.workflow_run_id
    _wait_status(run_id, RunStatus.RUNNING)
    time.sleep(0.2)  # the coroutine is inside its sleep
    start = time.time()
    hatchet.runs.cancel(run_id)
    while run_id not in redis_client.lrange(MARKS, 0, -1):  # bounded: its sleep lasts 30 s
        assert time.time() - start < 25.0, "the coroutine never saw CancelledError"
        time.sleep(0.02)
    keys = hatchet._registry.engine().keys
    assert _run_keys(redis_client, run_id, keys.leases) == []
    assert hatchet.runs.get_status(run_id) == V1TaskStatus.CANCELLED
    with pytest.raises(RunCancelledError):
        ref.result()
    assert hatchet.runs.cancel(run_id) is None  # already finished: nothing changes


def test_cancel_a_suspended_durable_task_and_its_wake_up_does_not_revive_it(
    redis_client: Any,
) -> None:
    ref = ops_durable_napper.run(wait_for_result=False)
    run_key = hatchet._registry.engine().keys.run(ref.workflow_run_id)
    deadline = time.time() + 15
    while redis_client.hget(run_key, "s:ops_durable_napper") != "SUSPENDED":
        assert time.time() < deadline, "the durable task never suspended"
        time.sleep(0.02)
    hatchet.runs.cancel(ref.workflow_run_id)
    time.sleep(1.5)  # past the sleep's end: the wake-up must find the task cancelled
    details = hatchet.runs.get_details(ref.workflow_run_id)
    assert details.status == RunStatus.CANCELLED
    assert details.task_runs["ops_durable_napper"].status == V1TaskStatus.CANCELLED
    assert details.task_runs["ops_durable_napper"].output is None


def test_ctx_cancel_cancels_the_task_and_its_descendants_not_its_siblings() -> None:
    ref = ops_selfcancel.run(wait_for_result=False)
    with pytest.raises(RunCancelledError):
        ref.result()
    details = hatchet.runs.get_details(ref.workflow_run_id)
    assert details.status == RunStatus.CANCELLED
    assert details.task_runs["ops_quitter"].status == V1TaskStatus.CANCELLED
    assert details.task_runs["ops_quitter"].error is None
    assert details.task_runs["ops_sibling"].output == {"sibling": "done"}
    assert "ops_after_quitter" not in details.task_runs


async def test_cancelling_a_parent_run_cancels_its_child_runs() -> None:
    ref = await ops_parent_of_sleeper.aio_run(wait_for_result=False)
    deadline = time.time() + 15
    children: list[Any] = []
    while not children and time.time() < deadline:
        children = (await hatchet.runs.aio_list(parent_task_external_id=ref.workflow_run_id)).rows
        await asyncio.sleep(0.05)
    assert children, "the child run was created"
    await hatchet.runs.aio_cancel(ref.workflow_run_id)
    child = await hatchet.runs.aio_get_details(children[0].metadata.id)
    assert child.status == RunStatus.CANCELLED
    assert (await hatchet.runs.aio_get_details(ref.workflow_run_id)).status == RunStatus.CANCELLED
    assert await ref.aio_result() == {}  # the async path does not raise, as in Hatchet


def test_cancelling_a_running_sync_task_frees_its_slot_within_a_second() -> None:
    from tests.apps.ops_slots import hatchet as slots
    from tests.apps.ops_slots import ops_quick, ops_spin

    with WorkerProcess("tests.apps.ops_slots:hatchet", name=f"ops-{uuid.uuid4().hex[:6]}", slots=1):
        spin = ops_spin.run(wait_for_result=False)
        deadline = time.time() + 20
        while slots.runs.get_status(spin.workflow_run_id) != V1TaskStatus.RUNNING:
            assert time.time() < deadline, "the spinning task never started"
            time.sleep(0.02)
        quick = ops_quick.run(wait_for_result=False)  # waits for the only slot
        time.sleep(0.3)
        assert slots.runs.get_status(quick.workflow_run_id) == V1TaskStatus.QUEUED
        cancelled_at = time.time()
        slots.runs.cancel(spin.workflow_run_id)
        # polled, not ref.result(): a waiter would keep a subscription of this namespace open
        started = _output(slots, quick.workflow_run_id, "ops_quick")["started"]
    assert started - cancelled_at < 1.0, f"slot freed after {started - cancelled_at:.2f}s"
    assert slots.runs.get_status(spin.workflow_run_id) == V1TaskStatus.CANCELLED
