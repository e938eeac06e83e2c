"""Workflows for the dashboard tests (``tests/test_dashboard*.py``), in their own namespace.

``dash_gated``'s middle task holds until the test sets ``release_key(run_id)`` in Redis
(or the run is cancelled), so a test can watch a run move on cue.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

import redis
from pydantic import BaseModel

from hatchet_celery import (
    ClientConfig,
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    Context,
    Hatchet,
    SleepCondition,
    UserEventCondition,
    or_,
)

hatchet = Hatchet(config=ClientConfig(namespace="dash"))
HOLD_SECONDS = 90.0
# a plain Celery task beside the Hatchet ones, and task events for the dashboard's page
hatchet.celery_app.conf.worker_send_task_events = True


@hatchet.celery_app.task(name="dash_plain_add")
def plain_add(x: int, y: int) -> int:
    return x + y


class DagInput(BaseModel):
    n: int = 1
    label: str = "x"


def release_key(run_id: str) -> str:
    return f"dashtest:release:{run_id}"


dash_dag = hatchet.workflow(name="dash_dag", input_validator=DagInput)


@dash_dag.task()
def start(input: DagInput, ctx: Context) -> dict[str, int]:
    ctx.log(f"starting with n={input.n}")
    return {"n": input.n}


@dash_dag.task(parents=[start])
def left(input: DagInput, ctx: Context) -> dict[str, int]:
    return {"left": ctx.task_output(start)["n"] + 1}


@dash_dag.task(parents=[start])
def right(input: DagInput, ctx: Context) -> dict[str, int]:
    return {"right": ctx.task_output(start)["n"] * 2}


@dash_dag.task(parents=[left, right])
def join(input: DagInput, ctx: Context) -> dict[str, int]:
    return {"sum": ctx.task_output(left)["left"] + ctx.task_output(right)["right"]}


dash_gated = hatchet.workflow(name="dash_gated", input_validator=DagInput)


@dash_gated.task()
def before(input: DagInput, ctx: Context) -> dict[str, str]:
    return {"before": "done"}


@dash_gated.task(parents=[before])
def gate(input: DagInput, ctx: Context) -> dict[str, str]:
    if _hold(ctx):
        return {"gate": "released"}
    raise RuntimeError("gate was never released")


@dash_gated.task(parents=[gate])
def after(input: DagInput, ctx: Context) -> dict[str, str]:
    return {"after": "done"}


def _hold(ctx: Context) -> bool:
    """Hold until the test releases this run (True) or the run is cancelled (False)."""
    client = redis.Redis.from_url(os.environ["HATCHET_CELERY_REDIS_URL"])
    deadline = time.monotonic() + HOLD_SECONDS
    try:
        while time.monotonic() < deadline and not ctx.is_cancelled:
            if client.exists(release_key(ctx.workflow_run_id)):
                return True
            time.sleep(0.05)
    finally:
        client.close()
    return False


dash_conc = hatchet.workflow(
    name="dash_conc",
    input_validator=DagInput,
    concurrency=ConcurrencyExpression(
        expression="input.label",
        max_runs=1,
        limit_strategy=ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN,
    ),
)


@dash_conc.task()
def held(input: DagInput, ctx: Context) -> dict[str, bool]:
    ctx.put_stream(f"held {input.label}\n")
    return {"released": _hold(ctx)}


dash_evented = hatchet.workflow(name="dash_evented", on_events=["dash:ping"])


@dash_evented.task()
def pong(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"pong": input}


dash_waits = hatchet.workflow(name="dash_waits")


@dash_waits.task(
    wait_for=[or_(SleepCondition(timedelta(minutes=10)), UserEventCondition(event_key="dash:go"))]
)
def waiter(input: DagInput, ctx: Context) -> dict[str, str]:
    return {"waited": "yes"}


@hatchet.task(name="dash_parent")
async def dash_parent(input: DagInput, ctx: Context) -> dict[str, int]:
    result = await dash_dag.aio_run(DagInput(n=input.n))
    return {"child_sum": result["join"]["sum"]}


dash_flaky = hatchet.workflow(name="dash_flaky")


@dash_flaky.task(retries=0)
def boom(input: DagInput, ctx: Context) -> dict[str, int]:
    if ctx.retry_count == 0:
        raise ValueError("boom fails on its first attempt")
    return {"attempt": ctx.retry_count}


@dash_flaky.task(parents=[boom])
def after_boom(input: DagInput, ctx: Context) -> dict[str, str]:
    return {"after": "boom"}


@hatchet.task(name="dash_retried", retries=2)
def retried(input: DagInput, ctx: Context) -> dict[str, int]:
    if ctx.retry_count < 2:
        raise ValueError(f"attempt {ctx.retry_count + 1} of dash_retried fails on purpose")
    return {"attempt": ctx.retry_count}


# --- helpers for the tests (bounded waits on the run's state, no fixed sleeps) -------------
def release(run_id: str) -> None:
    """Let ``dash_gated``'s ``gate`` task of this run finish."""
    client = redis.Redis.from_url(os.environ["HATCHET_CELERY_REDIS_URL"])
    try:
        client.set(release_key(run_id), "1", ex=600)
    finally:
        client.close()


def wait_status(run_id: str, status: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while (current := str(hatchet.runs.get_status(run_id).value)) != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} is {current}, not {status}, after {timeout}s")
        time.sleep(0.05)
