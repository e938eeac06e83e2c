"""Batch tasks: members collected in Redis, flushed by size, interval, bytes or group."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import Context
from hatchet_celery.exceptions import DeclarationError, FailedTaskRunExceptionGroup
from hatchet_celery.runnables.types import BatchMemberId
from tests.apps import hatchet


class Item(BaseModel):
    message: str
    group: str | int = ""


class Out(BaseModel):
    upper: str
    batch: str
    size: int


@hatchet.batch_task(
    name="bt-size", batch_max_size=3, batch_max_interval=timedelta(seconds=30), input_validator=Item
)
async def bt_size(tasks: dict[BatchMemberId, Item], ctx: Context) -> dict[BatchMemberId, Out]:
    batch = uuid.uuid4().hex
    return {i: Out(upper=t.message.upper(), batch=batch, size=len(tasks)) for i, t in tasks.items()}


@hatchet.batch_task(
    name="bt-interval",
    batch_max_size=50,
    batch_max_interval=timedelta(milliseconds=300),
    batch_group_key="input.group",
    input_validator=Item,
)
def bt_interval(tasks: dict[BatchMemberId, Item], ctx: Context) -> dict[BatchMemberId, Out]:
    batch = uuid.uuid4().hex
    return {i: Out(upper=t.message.upper(), batch=batch, size=len(tasks)) for i, t in tasks.items()}


class Total(BaseModel):
    total: int


@hatchet.batch_task(
    name="bt-broadcast",
    batch_max_size=4,
    batch_max_interval=timedelta(seconds=30),
    input_validator=Item,
    broadcast_output=True,
)
async def bt_broadcast(tasks: dict[BatchMemberId, Item], ctx: Context) -> Total:
    return Total(total=sum(len(t.message) for t in tasks.values()))


@hatchet.batch_task(
    name="bt-fails",
    batch_max_size=2,
    batch_max_interval=timedelta(seconds=30),
    input_validator=Item,
)
async def bt_fails(tasks: dict[BatchMemberId, Item], ctx: Context) -> dict[BatchMemberId, Out]:
    raise RuntimeError("the whole batch fails")


@hatchet.batch_task(
    name="bt-cancel",
    batch_max_size=3,
    batch_max_interval=timedelta(seconds=30),
    input_validator=Item,
    broadcast_output=True,
)
async def bt_cancel(tasks: dict[BatchMemberId, Item], ctx: Context) -> None:
    await ctx.aio_cancel()


@hatchet.batch_task(
    name="bt-bytes",
    batch_max_size=100,
    batch_max_interval=timedelta(seconds=1),
    input_validator=Item,
)
async def bt_bytes(tasks: dict[BatchMemberId, Item], ctx: Context) -> dict[BatchMemberId, Out]:
    batch = uuid.uuid4().hex
    return {i: Out(upper="", batch=batch, size=len(tasks)) for i, t in tasks.items()}


RUNNING: dict[str, int] = {"now": 0, "most": 0}


@hatchet.batch_task(
    name="bt-one-at-a-time",
    batch_max_size=1,
    batch_group_key="input.group",
    batch_group_max_runs=1,
    input_validator=Item,
    broadcast_output=True,
)
async def bt_one_at_a_time(tasks: dict[BatchMemberId, Item], ctx: Context) -> Total:
    RUNNING["now"] += 1
    RUNNING["most"] = max(RUNNING["most"], RUNNING["now"])
    await asyncio.sleep(0.2)
    RUNNING["now"] -= 1
    return Total(total=len(tasks))


@hatchet.batch_task(
    name="bt-status",
    batch_max_size=3,
    batch_max_interval=timedelta(seconds=30),
    input_validator=Item,
)
async def bt_status(
    tasks: dict[BatchMemberId, Item], ctx: Context
) -> dict[BatchMemberId, dict[str, str]]:
    async def status(member: str) -> str:
        summary = await hatchet.runs.aio_get_task_run(member)
        return str(summary.status.value)

    return {i: {"seen": await status(i)} for i in tasks}


bt_flow = hatchet.workflow(name="bt-flow", input_validator=Item)


@bt_flow.batch_task(name="shout", batch_max_size=2, batch_max_interval=timedelta(seconds=30))
async def bt_flow_shout(
    tasks: dict[BatchMemberId, Item], ctx: Context
) -> dict[BatchMemberId, dict[str, Any]]:
    return {i: {"shout": t.message.upper(), "size": len(tasks)} for i, t in tasks.items()}


@bt_flow.task(parents=[bt_flow_shout])
def bt_flow_after(input: Item, ctx: Context) -> dict[str, Any]:
    return {"got": ctx.task_output(bt_flow_shout)["shout"]}


async def _all(coros: list[Any]) -> list[Any]:
    return await asyncio.wait_for(asyncio.gather(*coros, return_exceptions=True), 60)


def test_a_full_buffer_runs_as_one_batch_each_member_gets_its_output(worker: Any) -> None:
    words = ["alpha", "bravo", "charlie"]
    results = asyncio.run(_all([bt_size.aio_run(Item(message=w)) for w in words]))
    assert [r.upper for r in results] == [w.upper() for w in words]
    assert len({r.batch for r in results}) == 1 and results[0].size == 3


def test_a_batch_is_flushed_once_its_inputs_reach_4_mib(worker: Any) -> None:
    """30 members of 200 kB arriving at once: one batch of 21 (4 MiB reached), then the
    other 9 at the interval; adding and flushing are one step, so no stray small batch."""
    big = "x" * 200_000
    results = asyncio.run(_all([bt_bytes.aio_run(Item(message=big)) for _ in range(30)]))
    sizes = {r.batch: r.size for r in results}
    assert sorted(sizes.values()) == [9, 21]


def test_batch_group_max_runs_bounds_the_batches_of_a_group_running_at_once(
    worker: Any,
) -> None:
    items = [Item(message=str(i), group="only") for i in range(4)]
    results = asyncio.run(_all([bt_one_at_a_time.aio_run(i) for i in items]))
    assert [r.total for r in results] == [1, 1, 1, 1]
    assert RUNNING["most"] == 1


def test_a_batch_task_of_a_workflow_feeds_its_children(worker: Any) -> None:
    results = asyncio.run(_all([bt_flow.aio_run(Item(message=m)) for m in ("x", "y")]))
    assert [r["shout"] for r in results] == [{"shout": "X", "size": 2}, {"shout": "Y", "size": 2}]
    assert [r["bt_flow_after"] for r in results] == [{"got": "X"}, {"got": "Y"}]


def test_every_member_runs_while_its_batch_runs(worker: Any) -> None:
    results = asyncio.run(_all([bt_status.aio_run(Item(message=m)) for m in "abc"]))
    assert results == [{"seen": "RUNNING"}] * 3


def test_the_interval_flushes_each_group_apart(worker: Any) -> None:
    items = [
        Item(message="a", group="g1"),
        Item(message="b", group="g1"),
        Item(message="c", group="g2"),
    ]
    results = asyncio.run(_all([bt_interval.aio_run(i) for i in items]))
    assert [r.size for r in results] == [2, 2, 1]
    assert results[0].batch == results[1].batch != results[2].batch


def test_a_group_key_that_is_not_a_string_fails_only_its_member(worker: Any) -> None:
    async def main() -> list[Any]:
        good = await bt_interval.aio_run(Item(message="ok", group="g"), wait_for_result=False)
        bad = await bt_interval.aio_run(Item(message="no", group=7), wait_for_result=False)
        return await _all([good.aio_result(), bad.aio_result()])

    good, bad = asyncio.run(main())
    assert good.upper == "OK"
    assert isinstance(bad, FailedTaskRunExceptionGroup)
    assert "failed to parse batch group key expression" in str(bad.exceptions[0])


def test_broadcast_gives_every_member_the_one_output(worker: Any) -> None:
    results = asyncio.run(_all([bt_broadcast.aio_run(Item(message="hey")) for _ in range(4)]))
    assert [r.total for r in results] == [12] * 4


def test_a_failing_batch_fails_every_member(worker: Any) -> None:
    results = asyncio.run(_all([bt_fails.aio_run(Item(message=m)) for m in "ab"]))
    assert all(isinstance(r, FailedTaskRunExceptionGroup) for r in results)
    assert all("the whole batch fails" in str(r.exceptions[0]) for r in results)


def test_cancel_in_the_handler_cancels_the_batch(worker: Any) -> None:
    async def main() -> list[Any]:
        refs = [await bt_cancel.aio_run(Item(message="x"), wait_for_result=False) for _ in range(3)]
        await _all([r.aio_result() for r in refs])
        return [await hatchet.runs.aio_get_status(r.workflow_run_id) for r in refs]

    assert {s.value for s in asyncio.run(main())} == {"CANCELLED"}


def test_declaration_checks() -> None:
    def handler(tasks: dict[BatchMemberId, Item], ctx: Context) -> None: ...

    with pytest.raises(DeclarationError, match="batch_max_size"):
        hatchet.batch_task(name="bt-bad", batch_max_size=0)(handler)
    with pytest.raises(Exception, match="batch_group_key"):
        hatchet.batch_task(name="bt-bad", batch_max_size=1, batch_group_key="input.(")(handler)


def test_mock_run_is_a_batch_of_one() -> None:
    assert asyncio.run(bt_broadcast.aio_mock_run(Item(message="four"))).total == 4


def test_a_batch_whose_worker_is_lost_completes_elsewhere(redis_client: Any) -> None:
    """Killed mid-batch: the members' leases lapse, they are queued again and each
    completes on the next worker (running the members still waiting with it)."""
    from hatchet_celery.testing import WorkerProcess, wait_for_task_status
    from tests.apps.batch_crash import FIRST, Word, bcrash_upper
    from tests.apps.batch_crash import hatchet as crash_hatchet

    redis_client.delete(FIRST)
    with WorkerProcess("tests.apps.batch_crash:hatchet", slots=4) as first:
        refs = [bcrash_upper.run_no_wait(Word(word=w)) for w in ("a", "b", "c")]
        for ref in refs:
            wait_for_task_status(crash_hatchet, ref.workflow_run_id, "bcrash-upper", "RUNNING")
        first.kill()
    with WorkerProcess("tests.apps.batch_crash:hatchet", slots=4):
        results = [ref.result() for ref in refs]
    assert [r["upper"] for r in results] == ["A", "B", "C"]
