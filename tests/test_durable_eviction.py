"""Durable eviction: policies, TTL and capacity picks, restore, branches, clean stops."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import Context, DurableContext, EmptyModel
from hatchet_celery._runtime.waits.eviction import select
from hatchet_celery._runtime.waits.restore import BranchError
from hatchet_celery.clients.rest.api.task_api import TaskApi
from hatchet_celery.runnables.eviction import DEFAULT_DURABLE_TASK_EVICTION_POLICY, EvictionPolicy
from hatchet_celery.testing import WorkerProcess, wait_for_task_status
from tests.apps import hatchet

FAST = EvictionPolicy(ttl=timedelta(milliseconds=500), allow_capacity_eviction=False)


# --- the policy, with literal times ---------------------------------------------------------
@dataclass(eq=False)
class Run:
    policy: EvictionPolicy | None
    waiting_since: float | None

    async def evict(self, cause: str) -> bool:
        return True


def test_ttl_picks_first_lowest_priority_then_longest_waiting() -> None:
    ttl = timedelta(seconds=5)
    old = Run(EvictionPolicy(ttl=ttl, priority=1), 0.0)
    low = Run(EvictionPolicy(ttl=ttl, priority=0), 4.0)
    fresh = Run(EvictionPolicy(ttl=ttl), 98.0)
    running = Run(EvictionPolicy(ttl=ttl), None)
    pick = select([old, low, fresh, running], now=100.0, durable_slots=1000)
    assert pick is not None and pick.run is low and pick.cause == "ttl_exceeded"
    assert select([fresh, running], now=100.0, durable_slots=1000) is None


def test_capacity_pressure_needs_full_slots_and_a_minimum_wait() -> None:
    a = Run(EvictionPolicy(ttl=None), 0.0)
    b = Run(EvictionPolicy(ttl=None, allow_capacity_eviction=False), 0.0)
    assert select([a], now=5.0, durable_slots=1) is None  # waited less than 10 s
    pick = select([a], now=10.0, durable_slots=1)
    assert pick is not None and pick.run is a and pick.cause == "capacity_pressure"
    assert select([a], now=10.0, durable_slots=2) is None  # a slot is still free
    assert select([b], now=60.0, durable_slots=1) is None  # not allowed
    assert select([Run(None, 0.0)], now=1e9, durable_slots=1) is None  # never evicted


def test_policy_defaults_are_hatchets() -> None:
    assert DEFAULT_DURABLE_TASK_EVICTION_POLICY.ttl == timedelta(minutes=15)
    assert DEFAULT_DURABLE_TASK_EVICTION_POLICY.allow_capacity_eviction
    assert ev_sleep.tasks[0].eviction_policy == FAST


# --- evictions on the in-process worker ---------------------------------------------------
@hatchet.durable_task(
    name="ev-sleep", execution_timeout=timedelta(seconds=30), eviction_policy=FAST
)
async def ev_sleep(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    await ctx.aio_sleep_for(timedelta(seconds=2))
    return {"invocation": ctx.invocation_count}


@hatchet.durable_task(
    name="ev-event", execution_timeout=timedelta(seconds=30), eviction_policy=FAST
)
async def ev_event(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    payload = await ctx.aio_wait_for_event("ev:go", f"input.run == '{ctx.workflow_run_id}'")
    return {"payload": payload, "invocation": ctx.invocation_count}


@hatchet.task(name="ev-child", execution_timeout=timedelta(seconds=30))
async def ev_child(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"child": ctx.workflow_run_id}


@hatchet.durable_task(
    name="ev-parent", execution_timeout=timedelta(seconds=30), eviction_policy=FAST
)
async def ev_parent(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    # the child waits for an event, so it is still running when the parent is evicted
    child = await ev_child_waits.aio_run()
    return {"child": child, "invocation": ctx.invocation_count}


@hatchet.durable_task(name="ev-child-waits", execution_timeout=timedelta(seconds=30))
async def ev_child_waits(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    parent = ctx.parent_workflow_run_id
    await ctx.aio_wait_for_event("ev:child", f"input.run == '{parent}'")
    return {"from": parent}


@hatchet.durable_task(
    name="ev-three-sleeps",
    execution_timeout=timedelta(seconds=30),
    eviction_policy=EvictionPolicy(ttl=None, allow_capacity_eviction=False),
)
async def ev_three_sleeps(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    woke = []
    for _ in range(3):
        await ctx.aio_sleep_for(timedelta(milliseconds=400))
        woke.append(time.time())
    return {"woke": woke, "invocation": ctx.invocation_count}


def _wait_evicted(run_id: str, timeout: float = 20.0) -> str:
    """The task run id, once ``get_details`` shows it evicted (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        details = hatchet.runs.get_details(run_id)
        evicted = [t for t in details.task_runs.values() if t.is_evicted]
        if evicted:
            assert evicted[0].status.value == "RUNNING"  # as Hatchet shows an evicted task
            return evicted[0].external_id
        assert time.monotonic() < deadline, f"run {run_id} never evicted: {details}"
        time.sleep(0.05)


def test_ttl_eviction_then_the_met_wait_restores_it(worker: Any) -> None:
    ref = ev_sleep.run_no_wait()
    _wait_evicted(ref.workflow_run_id)
    assert ref.result() == {"invocation": 2}  # replayed once, after its sleep


def test_restore_requeues_once_and_the_wait_still_counts(worker: Any) -> None:
    ref = ev_event.run_no_wait()
    run_id = ref.workflow_run_id
    task_run_id = _wait_evicted(run_id)
    with hatchet.runs.client() as client:
        assert TaskApi(client).v1_task_restore(task=task_run_id).requeued
        assert not TaskApi(client).v1_task_restore(task=task_run_id).requeued
    # replayed up to its wait, registered again: an event now completes it
    wait_for_task_status(hatchet, run_id, "ev-event", "SUSPENDED", timeout=20)
    hatchet.event.push("ev:go", {"run": run_id})
    result = ref.result()
    assert result["payload"] == {"run": run_id}
    assert result["invocation"] >= 2


def test_a_parent_awaiting_a_child_is_evicted_and_restored_by_the_child(worker: Any) -> None:
    ref = ev_parent.run_no_wait()
    run_id = ref.workflow_run_id
    _wait_evicted(run_id)
    engine = hatchet._registry.engine()
    assert engine.store.redis.hget(engine.keys.run(run_id), "s:ev-parent") == "SUSPENDED"
    hatchet.event.push("ev:child", {"run": run_id})
    result = ref.result()
    assert result["child"] == {"from": run_id}
    assert result["invocation"] == 2  # the replay found the same child run, finished


def test_reset_durable_task_branches(worker: Any) -> None:
    ref = ev_three_sleeps.run_no_wait()
    first = ref.result()
    reset = hatchet.runs.reset_durable_task(ref.workflow_run_id, node_id=2, branch_id=1)
    assert (reset.node_id, reset.branch_id) == (2, 2)
    second = ref.result()
    assert second["invocation"] == 2
    # the sleeps from node 2 on were slept again, after the reset
    assert second["woke"][1] > first["woke"][2]
    assert second["woke"][2] - second["woke"][1] >= 0.4
    # branch 1 is kept: a reset off it again makes branch 3; an unknown branch is refused
    assert hatchet.runs.reset_durable_task(ref.workflow_run_id, 3, 1).branch_id == 3
    assert ref.result()["invocation"] == 3
    with pytest.raises(BranchError):
        hatchet.runs.reset_durable_task(ref.workflow_run_id, 1, 99)


@hatchet.task(name="ev-other")
def ev_other(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"other": ctx.workflow_run_id}


def test_run_many_runs_each_item_as_the_workflow_that_built_it(worker: Any) -> None:
    """Hatchet's ``child_task.aio_run_many([bulk_child_task.create_bulk_run_item()])``."""
    results = ev_child.run_many([ev_other.create_bulk_run_item(), ev_child.create_bulk_run_item()])
    assert list(results[0]) == ["other"] and list(results[1]) == ["child"]


class Label(BaseModel):
    label: str
    delay: float = 0.0


@hatchet.task(name="ev-branch-child", input_validator=Label)
async def ev_branch_child(input: Label, ctx: Context) -> dict[str, str]:
    await asyncio.sleep(input.delay)
    return {"label": input.label}


async def _branch(name: str, delay: float) -> list[Any]:
    first = await ev_branch_child.aio_run(Label(label=f"{name}-first", delay=delay))
    second = await ev_branch_child.aio_run(Label(label=f"{name}-second"))
    return [first["label"], second["label"]]


@hatchet.durable_task(name="ev-branches", execution_timeout=timedelta(seconds=30))
async def ev_branches(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    # many concurrent spawns: each keeps the child index of its call, in every replay
    branches = await asyncio.gather(*(_branch(f"b{i}", 0.05 * (8 - i)) for i in range(8)))
    return {"branches": branches}


def test_a_replay_finds_concurrently_spawned_children_at_their_indices(worker: Any) -> None:
    ref = ev_branches.run_no_wait()
    expected = {"branches": [[f"b{i}-first", f"b{i}-second"] for i in range(8)]}
    assert ref.result() == expected
    hatchet.runs.replay(ref.workflow_run_id)
    assert ref.result() == expected


# --- a clean stop evicts what waits ---------------------------------------------------------
def test_a_clean_stop_evicts_waiting_runs() -> None:
    from tests.apps.durable_evict import evict_long_sleep
    from tests.apps.durable_evict import hatchet as evict_hatchet

    proc = WorkerProcess("tests.apps.durable_evict:hatchet", slots=2)
    with proc:
        ref = evict_long_sleep.run_no_wait()
        run_id = ref.workflow_run_id
        wait_for_task_status(evict_hatchet, run_id, "evict-long-sleep", "SUSPENDED", timeout=30)
        assert proc.stop() is not None
    details = evict_hatchet.runs.get_details(run_id)
    assert details.task_runs["evict-long-sleep"].is_evicted
    with WorkerProcess("tests.apps.durable_evict:hatchet", slots=2):
        assert ref.result()["invocation"] == 2
