"""``ctx.put_stream`` / ``hatchet.runs.subscribe_to_stream``: every chunk, in order, until
the run ends, whenever the subscriber arrives."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from hatchet_celery import Context, EmptyModel
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


class Chunks(BaseModel):
    n: int
    pause: float = 0.0


@hatchet.task(name="ops_streamer")
async def ops_streamer(input: Chunks, ctx: Context) -> dict[str, int]:
    await asyncio.sleep(0.2)  # let an early subscriber attach first
    for i in range(input.n):
        await ctx.aio_put_stream(f"chunk-{i:04d}|")
        if input.pause:
            await asyncio.sleep(input.pause)
    return {"sent": input.n}


ops_two_streams = hatchet.workflow(name="ops_two_streams")


@ops_two_streams.task()
def ops_stream_a(input: EmptyModel, ctx: Context) -> None:
    ctx.put_stream("a1")
    ctx.put_stream(b"a2")


@ops_two_streams.task(parents=[ops_stream_a])
def ops_stream_b(input: EmptyModel, ctx: Context) -> None:
    ctx.put_stream("b1")


async def _collect(run_id: str) -> list[str]:
    return [chunk async for chunk in hatchet.runs.subscribe_to_stream(run_id)]


async def test_a_thousand_chunks_arrive_complete_and_in_order() -> None:
    ref = await ops_streamer.aio_run(Chunks(n=1000), wait_for_result=False)
    chunks = await asyncio.wait_for(_collect(ref.workflow_run_id), timeout=60)
    assert chunks == [f"chunk-{i:04d}|" for i in range(1000)]
    assert (await ref.aio_result()) == {"sent": 1000}


async def test_subscribers_arriving_late_or_after_the_end_get_everything() -> None:
    ref = await ops_streamer.aio_run(Chunks(n=20, pause=0.02), wait_for_result=False)
    early = asyncio.create_task(_collect(ref.workflow_run_id))
    await asyncio.sleep(0.4)  # mid-stream
    late = await asyncio.wait_for(_collect(ref.workflow_run_id), timeout=30)
    expected = [f"chunk-{i:04d}|" for i in range(20)]
    assert late == expected
    assert await asyncio.wait_for(early, timeout=30) == expected
    assert await _collect(ref.workflow_run_id) == expected  # the run has ended


async def test_chunks_of_every_task_of_a_run_and_bytes() -> None:
    ref = await ops_two_streams.aio_run(wait_for_result=False)
    assert await asyncio.wait_for(_collect(ref.workflow_run_id), timeout=30) == [
        "a1",
        "a2",
        "b1",
    ]


async def test_task_run_ref_stream_and_unknown_run_end_at_once() -> None:
    ref = await ops_streamer.aio_run(Chunks(n=3), wait_for_result=False)
    assert [c async for c in ref.stream()] == ["chunk-0000|", "chunk-0001|", "chunk-0002|"]
    assert await asyncio.wait_for(_collect("no-such-run"), timeout=5) == []
