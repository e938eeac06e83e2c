"""Run streams: ``ctx.put_stream`` chunks, delivered in order to every subscriber.

A run's chunks are a Redis list (the order is the order of ``RPUSH``), so a subscriber
that arrives late still reads them all from the start; each push also publishes the
chunk's index on the run's channel, so subscribers wake at once instead of polling.
A subscription ends when the run has finished and every chunk has been read: tasks push
before they complete, so once the run's final status is seen, the list is complete.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import redis.asyncio

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine

# How long a subscriber waits for a chunk before it checks whether the run ended.
WAKE_EVERY = 0.2


def put(engine: Engine, run_id: str, data: str | bytes) -> int:
    """Append one chunk to the run's stream; returns its index (0-based)."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else str(data)
    keys = engine.keys
    ttl = max(int(engine.config.retention_seconds), 60)
    index: int = engine.store.script(
        "stream_put", [keys.stream(run_id), keys.stream_channel(run_id)], [text, ttl]
    )
    return int(index)


async def subscribe(engine: Engine, run_id: str) -> AsyncIterator[str]:
    """Yield the run's chunks in order, from the first, until the run has ended."""
    keys = engine.keys
    client = redis.asyncio.Redis.from_url(engine.redis_url, decode_responses=True)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(keys.stream_channel(run_id))
        finished = asyncio.wrap_future(await asyncio.to_thread(engine.waiter.wait, run_id))
        position = 0
        while True:
            ended = finished.done()
            chunks = [str(c) for c in await client.lrange(keys.stream(run_id), position, -1)]
            for chunk in chunks:
                yield chunk
            position += len(chunks)
            if ended:
                return
            if not chunks:
                woke = await pubsub.get_message(ignore_subscribe_messages=True, timeout=WAKE_EVERY)
                while woke is not None:  # one read serves every chunk announced so far
                    woke = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()


__all__ = ["put", "subscribe"]
