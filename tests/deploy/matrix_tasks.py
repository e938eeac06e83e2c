"""The deployment matrix's workloads, appended to the README's ``proj/tasks.py``.

Each task leaves a trace in the coordination Redis (``MATRIX_*`` keys under the cell's
namespace), so the driver checks what ran, how often and in which order, from another
process, whatever pool or broker served it.
"""

import os
import time
from datetime import timedelta

import redis as _redis
from proj.celery import app, hatchet
from pydantic import BaseModel

from hatchet_celery import (
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    Context,
    DurableContext,
    EmptyModel,
)

NS = os.environ["HATCHET_CLIENT_NAMESPACE"]


def store() -> "_redis.Redis[str]":
    return _redis.Redis.from_url(os.environ["HATCHET_CELERY_REDIS_URL"], decode_responses=True)


def trace(key: str) -> str:
    return f"matrix:{NS}:{key}"


class Group(BaseModel):
    group: str = "a"
    n: int = 0


# --- a plain Celery task on the same app and workers (no result backend: it leaves a trace)
@app.task
def plain_add(x: int) -> int:
    store().rpush(trace("plain"), x + 1)
    return x + 1


# --- a DAG: two roots, one child --------------------------------------------------------
matrix_dag = hatchet.workflow(name="MatrixDag")


@matrix_dag.task()
def left(input: EmptyModel, ctx: Context) -> dict[str, int]:
    return {"v": 2}


@matrix_dag.task()
def right(input: EmptyModel, ctx: Context) -> dict[str, int]:
    return {"v": 3}


@matrix_dag.task(parents=[left, right])
def product(input: EmptyModel, ctx: Context) -> dict[str, int]:
    return {"v": ctx.task_output(left)["v"] * ctx.task_output(right)["v"]}


# --- a retry -------------------------------------------------------------------------------
@hatchet.task(name="MatrixRetry", retries=2)
def flaky(input: EmptyModel, ctx: Context) -> dict[str, int]:
    store().incr(trace("retry_bodies"))
    if ctx.retry_count == 0:
        raise RuntimeError("first attempt fails on purpose")
    return {"attempt": ctx.retry_count}


# --- a concurrency key: one run per group at a time -----------------------------------------
@hatchet.task(
    name="MatrixConcurrency",
    input_validator=Group,
    concurrency=ConcurrencyExpression(
        expression="input.group",
        max_runs=1,
        limit_strategy=ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN,
    ),
)
def one_at_a_time(input: Group, ctx: Context) -> dict[str, int]:
    r = store()
    active = r.incr(trace(f"active:{input.group}"))
    r.rpush(trace(f"seen:{input.group}"), active)
    time.sleep(0.2)
    r.decr(trace(f"active:{input.group}"))
    return {"n": input.n}


# --- priority: a backlog published before any worker runs -----------------------------------
PRIORITY_PER_LEVEL = 4  # the backlog: this many of priority 3 (HIGH) and of priority 1


@hatchet.task(name="MatrixPriority", input_validator=Group)
def prioritised(input: Group, ctx: Context) -> dict[str, int]:
    r = store()
    position = int(r.rpush(trace("priority_order"), f"{input.group}{input.n}"))
    # The backlog starts in waves of one task per slot: this task holds its slot until every
    # task of its wave has started (bounded). A free slot takes the next message only after
    # its whole wave is recorded, so the recorded waves are exactly the broker's delivery
    # order, however late a busy machine schedules one of the pool's threads or processes.
    slots = int(os.environ.get("MATRIX_SLOTS", "1"))
    wave_end = min(2 * PRIORITY_PER_LEVEL, -(-position // slots) * slots)
    deadline = time.monotonic() + 20
    while r.llen(trace("priority_order")) < wave_end and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"n": input.n}


# --- a durable sleep -------------------------------------------------------------------------
@hatchet.durable_task(name="MatrixDurable")
async def sleeper(input: EmptyModel, ctx: DurableContext) -> dict[str, float]:
    started = time.time()
    await ctx.aio_sleep_for(timedelta(seconds=1))
    return {"slept_since": started}


# --- an event trigger ------------------------------------------------------------------------
@hatchet.task(name="MatrixEvent", on_events=["matrix:ping"], input_validator=Group)
def on_ping(input: Group, ctx: Context) -> dict[str, int]:
    store().rpush(trace("events"), input.n)
    return {"n": input.n}


# --- a cron, fired by `celery -A proj beat` every second -------------------------------------
@hatchet.task(name="MatrixCron", on_crons=["* * * * * *"])
def every_second(input: EmptyModel, ctx: Context) -> dict[str, str]:
    tick = ctx.additional_metadata["hatchet__cron_scheduled_at"]
    store().rpush(trace("cron_ticks"), tick)
    return {"tick": tick}


# --- slow tasks kept in flight across a broker restart ----------------------------------------
@hatchet.task(name="MatrixSlow", input_validator=Group)
def slow(input: Group, ctx: Context) -> dict[str, int]:
    store().incr(trace(f"bodies:{ctx.workflow_run_id}"))
    time.sleep(0.5)
    return {"n": input.n}
