"""Durable tasks served by subprocess workers (tests/test_durable.py kills and restarts them)."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from typing import Any

from hatchet_celery import ClientConfig, DurableContext, EmptyModel, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="waits"))


async def _token() -> dict[str, str]:
    return {"token": uuid.uuid4().hex, "pid": str(os.getpid())}


@hatchet.durable_task(name="waits-sleeper", execution_timeout=timedelta(seconds=30))
async def waits_sleeper(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    await ctx.aio_sleep_for(timedelta(seconds=3))
    return {"pid": os.getpid()}


@hatchet.durable_task(name="waits-crash", execution_timeout=timedelta(seconds=30))
async def waits_crash(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    started = await ctx._aio_memo(_token, dict)
    await ctx.aio_sleep_for(timedelta(seconds=4))
    return {
        "token": started["token"],
        "started_pid": started["pid"],
        "pid": str(os.getpid()),
        "finished": time.time(),
    }
