"""A durable task served by a subprocess worker: a clean stop evicts it while it waits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hatchet_celery import ClientConfig, DurableContext, EmptyModel, Hatchet
from hatchet_celery.runnables.eviction import EvictionPolicy

hatchet = Hatchet(config=ClientConfig(namespace="evict"))


@hatchet.durable_task(
    name="evict-long-sleep",
    execution_timeout=timedelta(seconds=60),
    eviction_policy=EvictionPolicy(ttl=None, allow_capacity_eviction=False),
)
async def evict_long_sleep(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    await ctx.aio_sleep_for(timedelta(seconds=3))
    return {"invocation": ctx.invocation_count}
