"""A batch task served by subprocess workers: the first execution hangs until killed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from hatchet_celery import ClientConfig, Context, Hatchet
from hatchet_celery.runnables.types import BatchMemberId

hatchet = Hatchet(config=ClientConfig(namespace="bcrash"))
FIRST = "tests:bcrash:first"  # set by the execution that hangs (a test-only key)


class Word(BaseModel):
    word: str


@hatchet.batch_task(
    name="bcrash-upper",
    batch_max_size=3,
    batch_max_interval=timedelta(seconds=30),
    execution_timeout=timedelta(seconds=60),
    input_validator=Word,
)
async def bcrash_upper(
    tasks: dict[BatchMemberId, Word], ctx: Context
) -> dict[BatchMemberId, dict[str, Any]]:
    redis = hatchet._registry.engine().store.redis
    if await asyncio.to_thread(redis.set, FIRST, "1", nx=True):
        await asyncio.sleep(120)  # killed meanwhile
    return {i: {"upper": t.word.upper(), "size": len(tasks)} for i, t in tasks.items()}
