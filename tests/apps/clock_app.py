"""Workflows on a clock the test sets (``tests/test_clock.py``).

The time is read from the file named by ``HC_TEST_CLOCK_FILE``, so the test and the worker
processes it starts share one clock; this module wires it into its ``Hatchet`` when it is
imported, as a user's test module would.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import redis

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet
from hatchet_celery.testing import use_clock

NAMESPACE = os.environ.get("HC_TEST_CLOCK_NAMESPACE", "clock")
NOW_FILE = Path(os.environ.get("HC_TEST_CLOCK_FILE", "/nonexistent/hc-test-clock"))
HOUR = 3600.0

hatchet = Hatchet(config=ClientConfig(namespace=NAMESPACE))


def now() -> float:
    """The time the test wrote last."""
    return float(NOW_FILE.read_text())


use_clock(hatchet, now)


def store() -> redis.Redis:
    return redis.Redis.from_url(os.environ["HATCHET_CELERY_REDIS_URL"], decode_responses=True)


@hatchet.task(name="clock_retry", retries=1, backoff_factor=HOUR)
def fails_once(input: EmptyModel, ctx: Context) -> dict[str, int]:
    """Fails its first attempt; the retry waits ``HOUR ** 1`` seconds of the clock."""
    if ctx.retry_count == 0:
        raise RuntimeError("the first attempt fails")
    return {"retry_count": ctx.retry_count}


@hatchet.task(name="clock_lost", execution_timeout=timedelta(hours=5))
def outlives_its_worker(input: EmptyModel, ctx: Context) -> dict[str, int]:
    """The first body blocks until its worker is killed; the next one returns."""
    bodies = int(store().incr(f"{NAMESPACE}:bodies:{ctx.workflow_run_id}"))
    if bodies == 1:
        time.sleep(HOUR)  # real time: the test kills this worker long before
    return {"bodies": bodies}


@hatchet.task(name="clock_daily", on_crons=["0 9 * * *"])
def every_morning(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"tick": str(ctx.additional_metadata.get("hatchet__cron_scheduled_at"))}
