"""The two contenders on ONE Celery app: plain Celery tasks and Hatchet workflows.

Declaring both on the same app (``Hatchet(app=celery_app)``) is what makes the comparison
fair: one worker process serves both, so the pool type, its concurrency, the prefetch
multiplier, ``acks_late``, the serializer and the broker connection are the same objects,
not two configurations kept equal by hand. Plain Celery needs a result backend for
``.get()``, groups and chords; it is the same Redis, as a Celery team would run it.

The broker/coordination URL is read from ``HATCHET_CELERY_REDIS_URL`` at import, so the
harness sets it before importing this module (and passes it to the worker subprocess).
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_ready
from pydantic import BaseModel

from hatchet_celery import Context, DurableContext, EmptyModel, Hatchet

if os.environ.get("BENCH_ROUND_TRIPS"):  # benchmarks/costs.py counts this worker's trips
    from benchmarks import roundtrips

    roundtrips.install()

if os.environ.get("BENCH_STEPCLOCK"):  # benchmarks/budget.py times the parts of each task
    from benchmarks import stepclock

    stepclock.install()

REDIS_URL = os.environ.get("HATCHET_CELERY_REDIS_URL", "redis://127.0.0.1:6379/0")

celery_app = Celery("bench", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
celery_app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    result_expires=3600,
    enable_utc=True,
)

hatchet = Hatchet(app=celery_app)

FANOUT = 50
CHAIN = 10


# --- plain Celery ------------------------------------------------------------------------------
@celery_app.task(name="bench.plain.noop")  # type: ignore[untyped-decorator]
def plain_noop(*_args: Any) -> None:
    """No work; ignores the parent's result when it runs inside a chain or a chord."""
    return None


# --- hatchet_celery ----------------------------------------------------------------------------
@hatchet.task(name="bench_noop", input_validator=EmptyModel)
def hatchet_noop(input: EmptyModel, ctx: Context) -> None:
    return None


@hatchet.task(name="bench_async_sleep", input_validator=EmptyModel)
async def hatchet_async_sleep(input: EmptyModel, ctx: Context) -> None:
    """Awaits one second: 100 of them on slots=100 should take about one second."""
    await asyncio.sleep(1)


class SleepInput(BaseModel):
    seconds: float = 5.0


@hatchet.durable_task(name="bench_durable_sleep", input_validator=SleepInput)
async def durable_sleep(input: SleepInput, ctx: DurableContext) -> dict[str, float]:
    """Sleeps without holding a slot; reports how long the sleep took as the task saw it.

    A coroutine resumed in the process that parked it keeps ``asked``; a replay elsewhere
    starts again from the top, so ``slept`` is then short and ``woke_at`` is used instead.
    """
    asked = time.time()
    await ctx.aio_sleep_for(timedelta(seconds=input.seconds))
    return {"slept": time.time() - asked, "woke_at": time.time()}


def _noop_step(input: EmptyModel, ctx: Context) -> None:
    return None


chain_wf = hatchet.workflow(name="bench_chain10", input_validator=EmptyModel)
_previous: Any = None
for _i in range(CHAIN):
    _parents = [_previous] if _previous is not None else []
    _previous = chain_wf.task(name=f"step{_i}", parents=_parents)(_noop_step)

fan_wf = hatchet.workflow(name="bench_fan50", input_validator=EmptyModel)
_start = fan_wf.task(name="start")(_noop_step)
_middle = [fan_wf.task(name=f"mid{_i}", parents=[_start])(_noop_step) for _i in range(FANOUT)]
fan_wf.task(name="end", parents=_middle)(_noop_step)

# Build the app now: registers the Hatchet tasks and the worker bootstep (timer pump) on
# ``celery_app``, so ``celery -A benchmarks.apps:celery_app worker`` serves both sides.
hatchet.celery_app  # noqa: B018


@worker_ready.connect(weak=False)  # type: ignore[untyped-decorator]
def _announce_ready(**_kwargs: Any) -> None:
    """The harness waits for this file instead of sleeping a guessed amount."""
    counts = os.environ.get("BENCH_ROUND_TRIPS")
    if counts:
        from benchmarks import roundtrips

        roundtrips.publish_to(counts)
    clock = os.environ.get("BENCH_STEPCLOCK")
    if clock:
        from benchmarks import stepclock

        stepclock.publish_to(clock)
    path = os.environ.get("BENCH_READY_FILE")
    if path:
        Path(path).write_text("ready")
