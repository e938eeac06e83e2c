"""DAG semantics against a real redis-server and a real (in-process) Celery worker."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel

from hatchet_celery import Context, EmptyModel, FailedTaskRunExceptionGroup, TaskRunError
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


class Num(BaseModel):
    n: int


# --- a diamond: result shape and parent outputs ---------------------------------------------
diamond = hatchet.workflow(name="CoreDiamond", input_validator=Num)


@diamond.task(name="Start")
def start(input: Num, ctx: Context) -> dict[str, int]:
    return {"v": input.n}


@diamond.task(parents=[start])
async def left(input: Num, ctx: Context) -> dict[str, int]:
    return {"v": ctx.task_output(start)["v"] + 1}


@diamond.task(parents=[start])
def right(input: Num, ctx: Context) -> dict[str, int]:
    return {"v": ctx.task_output(start)["v"] * 10}


@diamond.task(parents=[left, right])
def join(input: Num, ctx: Context) -> dict[str, int]:
    return {"v": ctx.task_output(left)["v"] + ctx.task_output(right)["v"]}


def test_result_is_keyed_by_lower_cased_task_names() -> None:
    result = diamond.run(Num(n=3))
    assert result == {
        "start": {"v": 3},
        "left": {"v": 4},
        "right": {"v": 30},
        "join": {"v": 34},
    }


async def test_async_run_gives_the_same_result() -> None:
    result = await diamond.aio_run(Num(n=5))
    assert result["join"] == {"v": 56}


# --- no level barrier: a child starts when its own parents are done -------------------------
eager = hatchet.workflow(name="CoreEager")


@eager.task()
def fast_parent(input: EmptyModel, ctx: Context) -> dict[str, float]:
    return {"at": time.time()}


@eager.task()
def slow_sibling(input: EmptyModel, ctx: Context) -> dict[str, float]:
    time.sleep(1.5)
    return {"at": time.time()}


@eager.task(parents=[fast_parent])
def fast_child(input: EmptyModel, ctx: Context) -> dict[str, float]:
    return {"at": time.time()}


@eager.task(parents=[fast_child, slow_sibling])
def last(input: EmptyModel, ctx: Context) -> dict[str, float]:
    return {"at": time.time()}


def test_child_of_fast_parent_finishes_while_unrelated_sibling_sleeps() -> None:
    r = eager.run()
    assert r["fast_child"]["at"] < r["slow_sibling"]["at"] - 1.0
    assert r["last"]["at"] >= r["slow_sibling"]["at"]


# --- failures: descendants stop, independent branches finish ----------------------------------
failing = hatchet.workflow(name="CoreFailing")


@failing.task()
def root_ok(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "yes"}


@failing.task(parents=[root_ok])
def breaks(input: EmptyModel, ctx: Context) -> dict[str, str]:
    raise RuntimeError("boom in breaks")


@failing.task(parents=[breaks])
def after_break(input: EmptyModel, ctx: Context) -> dict[str, str]:
    raise AssertionError("must never run")


@failing.task()
def also_breaks(input: EmptyModel, ctx: Context) -> dict[str, str]:
    raise ValueError("second failure")


@failing.task(parents=[root_ok])
def independent(input: EmptyModel, ctx: Context) -> dict[str, float]:
    time.sleep(0.3)
    return {"at": time.time()}


def test_failed_tasks_stop_descendants_and_are_reported_together() -> None:
    ref = failing.run(wait_for_result=False)
    with pytest.raises(FailedTaskRunExceptionGroup) as info:
        ref.result()
    group = info.value
    assert str(group).startswith(f"Workflow run {ref.workflow_run_id} failed.")
    by_task = {e.task_name: e for e in group.exceptions}
    assert set(by_task) == {"breaks", "also_breaks"}
    err = by_task["breaks"]
    assert isinstance(err, TaskRunError)
    assert err.exc_type == "RuntimeError"
    assert err.exc == "boom in breaks"
    assert "Traceback" in err.trace and "boom in breaks" in err.trace
    assert by_task["also_breaks"].exc_type == "ValueError"

    state = hatchet._registry.client().fetch(ref.workflow_run_id)
    assert state is not None and state.status == "FAILED"
    assert state.tasks["independent"].status == "COMPLETED"
    assert "after_break" not in state.tasks  # never created: its parent failed


async def test_aio_result_raises_the_same_group() -> None:
    with pytest.raises(FailedTaskRunExceptionGroup) as info:
        await failing.aio_run()
    assert {e.task_name for e in info.value.exceptions} == {"breaks", "also_breaks"}


# --- many runs --------------------------------------------------------------------------------
@hatchet.task(name="core_noop")
def noop(input: Num, ctx: Context) -> dict[str, int]:
    return {"n": input.n}


def test_run_many_one_thousand_runs() -> None:
    items = [noop.create_bulk_run_item(Num(n=i)) for i in range(1000)]
    results = noop.run_many(items)
    assert [r["n"] for r in results] == list(range(1000))


async def test_aio_run_many_without_waiting_returns_refs() -> None:
    refs = await noop.aio_run_many(
        [noop.create_bulk_run_item(Num(n=i)) for i in range(20)], wait_for_result=False
    )
    values = [await r.aio_result() for r in refs]
    assert [v["n"] for v in values] == list(range(20))


def test_waiting_on_many_refs_uses_one_subscription(redis_client: object) -> None:
    import redis as redis_lib

    assert isinstance(redis_client, redis_lib.Redis)
    refs = noop.run_many(
        [noop.create_bulk_run_item(Num(n=i)) for i in range(500)], wait_for_result=False
    )

    def subscribers(clients: list[dict[str, str]]) -> int:
        return sum(1 for c in clients if int(c.get("sub", 0)) or int(c.get("psub", 0)))

    before = redis_client.client_list()
    results = [r.result() for r in refs]
    after = redis_client.client_list()
    assert [r["n"] for r in results] == list(range(500))
    # at most the one listener of this process's store appears while waiting on 500 refs
    assert subscribers(after) - subscribers(before) <= 1
    # no connection per ref (the in-process worker's 40 threads may each hold one)
    assert len(after) - len(before) < 50
