"""Workflows served by subprocess workers in tests/test_concurrency.py (own namespace, so
the in-process session worker never takes their messages)."""

import os
import random
import time

from pydantic import BaseModel

from hatchet_celery import (
    ClientConfig,
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    Context,
    Hatchet,
)

hatchet = Hatchet(config=ClientConfig(namespace="flow_conc"))


class Keyed(BaseModel):
    key: str
    seconds: float = 0.0


@hatchet.task(
    name="flow_conc_many",
    input_validator=Keyed,
    concurrency=ConcurrencyExpression(
        expression="input.key",
        max_runs=2,
        limit_strategy=ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN,
    ),
)
def many(input: Keyed, ctx: Context) -> dict[str, float]:
    started = time.time()
    time.sleep(input.seconds or random.uniform(0.01, 0.05))
    return {"start": started, "end": time.time()}


@hatchet.task(
    name="flow_conc_hold",
    input_validator=Keyed,
    concurrency=ConcurrencyExpression(
        expression="input.key",
        max_runs=2,
        limit_strategy=ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN,
    ),
)
def hold(input: Keyed, ctx: Context) -> dict[str, float]:
    started = time.time()
    # A worker started with FLOW_HANG=1 stands for one that hangs and is then killed.
    time.sleep(60 if os.environ.get("FLOW_HANG") == "1" else input.seconds)
    return {"start": started, "end": time.time(), "pid": os.getpid()}
