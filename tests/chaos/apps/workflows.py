"""The chaos suite's workflows, declared on whatever ``Hatchet`` is handed in.

Worker subprocesses declare them on a ``Hatchet`` built from their environment
(``apps/mixed.py``); the test process declares the same ones on a ``Hatchet`` pointed at
the suite's own redis-server, only to trigger runs. Every execution writes what it did to
a Redis list of the same server (``EXEC``), so the tests check invariants from what the
tasks saw, not only from what the runtime recorded.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from hatchet_celery import (
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    Context,
    DurableContext,
    Hatchet,
)
from hatchet_celery.rate_limit import RateLimit, RateLimitDuration

# Test-only keys (outside the package's prefix): one JSON line per execution, one line
# per start of a flow-controlled task, and one line per outcome the runtime accepted.
EXEC = "chaos:exec"
STARTS = "chaos:starts"
OUTCOMES = "chaos:outcomes"

CONC_MAX = 2
RL_LIMIT = 20  # units per second of the shared bucket "chaos-rl"


class Step(BaseModel):
    ms: int = 20
    fail_first: bool = False
    key: str = "k0"


@dataclass
class Declared:
    dag: Any
    conc: Any
    rl: Any
    durable: Any
    event: Any
    chain: Any

    def all(self) -> list[Any]:
        return [self.dag, self.conc, self.rl, self.durable, self.event, self.chain]


def _redis(ctx: Context) -> Any:
    return ctx._registry.engine().store.redis


def _record(ctx: Context, started: float, **extra: Any) -> dict[str, str]:
    """Log this execution (the token is what the run hash must end up holding)."""
    token = uuid.uuid4().hex
    line = {
        "r": ctx.workflow_run_id,
        "t": ctx.task_name,
        "tr": ctx.task_run_id,
        "a": ctx.retry_count,
        "p": os.getpid(),
        "tok": token,
        "s": started,
        "e": time.time(),
        **extra,
    }
    _redis(ctx).rpush(EXEC, json.dumps(line))
    return {"tok": token}


def _start(ctx: Context, **extra: Any) -> float:
    started = time.time()
    line = {"r": ctx.workflow_run_id, "t": ctx.task_name, "a": ctx.retry_count}
    _redis(ctx).rpush(STARTS, json.dumps({**line, "p": os.getpid(), "s": started, **extra}))
    return started


def log_outcomes(hatchet: Hatchet) -> None:
    """In a worker subprocess: log every outcome the runtime accepts (``OUTCOMES``), as one
    more ``task_finished`` listener of the engine's extensions."""

    def log_outcome(engine: Any, task: Any, run_id: str, status: str) -> None:
        line = {"r": run_id, "t": task.name, "st": status, "p": os.getpid()}
        engine.store.redis.rpush(OUTCOMES, json.dumps(line))

    if os.environ.get("CHAOS_WORKER") == "1":
        engine = hatchet._registry.engine()
        ext = engine.extensions
        engine.extensions = replace(ext, task_finished=(*ext.task_finished, log_outcome))


def declare(hatchet: Hatchet) -> Declared:
    dag = hatchet.workflow(name="ChaosDag", input_validator=Step)

    @dag.task()
    def a(input: Step, ctx: Context) -> dict[str, str]:
        started = time.time()
        time.sleep(input.ms / 1000)
        return _record(ctx, started)

    @dag.task(parents=[a], retries=2)
    def b(input: Step, ctx: Context) -> dict[str, str]:
        started = time.time()
        time.sleep(input.ms / 1000)
        if input.fail_first and ctx.retry_count == 0:
            _record(ctx, started, failed=True)
            raise RuntimeError("first attempt of b fails on purpose")
        return _record(ctx, started, seen={"a": ctx.task_output(a)["tok"]})

    @dag.task(parents=[a])
    def c(input: Step, ctx: Context) -> dict[str, str]:
        started = time.time()
        time.sleep(input.ms / 1000)
        return _record(ctx, started, seen={"a": ctx.task_output(a)["tok"]})

    @dag.task(parents=[b, c])
    def d(input: Step, ctx: Context) -> dict[str, str]:
        started = time.time()
        seen = {"b": ctx.task_output(b)["tok"], "c": ctx.task_output(c)["tok"]}
        return _record(ctx, started, seen=seen)

    @hatchet.task(
        name="chaos_conc",
        input_validator=Step,
        concurrency=ConcurrencyExpression(
            expression="input.key",
            max_runs=CONC_MAX,
            limit_strategy=ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN,
        ),
    )
    def conc(input: Step, ctx: Context) -> dict[str, str]:
        started = _start(ctx, key=input.key)
        time.sleep(input.ms / 1000)
        return _record(ctx, started, key=input.key)

    @hatchet.task(
        name="chaos_rl",
        input_validator=Step,
        rate_limits=[
            RateLimit(
                dynamic_key='"chaos-rl"',
                units=1,
                limit=RL_LIMIT,
                duration=RateLimitDuration.SECOND,
            )
        ],
    )
    def rl(input: Step, ctx: Context) -> dict[str, str]:
        started = _start(ctx)
        return _record(ctx, started)

    @hatchet.durable_task(
        name="chaos_durable", input_validator=Step, execution_timeout=timedelta(seconds=30)
    )
    async def durable(input: Step, ctx: DurableContext) -> dict[str, str]:
        started = time.time()
        await ctx.aio_sleep_for(timedelta(milliseconds=max(input.ms, 1) * 20))
        return _record(ctx, started)

    event = hatchet.workflow(name="ChaosEvent", on_events=["chaos:event"], input_validator=Step)

    @event.task()
    def on_event(input: Step, ctx: Context) -> dict[str, str]:
        return _record(ctx, time.time())

    # the load case's 3-step workflow: it logs nothing, so Redis holds only what the
    # runtime itself keeps
    chain = hatchet.workflow(name="ChaosChain", input_validator=Step)

    @chain.task()
    def s1(input: Step, ctx: Context) -> dict[str, int]:
        return {"n": 1}

    @chain.task(parents=[s1])
    def s2(input: Step, ctx: Context) -> dict[str, int]:
        return {"n": ctx.task_output(s1)["n"] + 1}

    @chain.task(parents=[s2])
    def s3(input: Step, ctx: Context) -> dict[str, int]:
        return {"n": ctx.task_output(s2)["n"] + 1}

    return Declared(dag=dag, conc=conc, rl=rl, durable=durable, event=event, chain=chain)
