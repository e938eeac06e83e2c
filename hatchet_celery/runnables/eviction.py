"""When a waiting durable task is evicted from its worker's memory.

A durable task that waits (``aio_sleep_for``, ``aio_wait_for``, ``aio_wait_for_event``,
the result of a child run) holds no worker slot here, but its coroutine stays parked in
the worker's memory so it can resume where it stopped. Its ``EvictionPolicy`` says when
that memory is given up: after ``ttl`` of continuous waiting, or earlier when the
worker's durable slots are all taken by waiting tasks (``allow_capacity_eviction``;
lowest ``priority`` first). An evicted task loses nothing: it is restored (replayed
from its checkpoints) when its wait is met, or by ``TaskApi.v1_task_restore``.
``eviction_policy=None`` keeps the coroutine until the wait ends.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict


class EvictionPolicy(BaseModel):
    """How long a durable task may wait in memory, and whether capacity may evict it."""

    model_config = ConfigDict(frozen=True)

    ttl: timedelta | None
    allow_capacity_eviction: bool = True
    priority: int = 0


DEFAULT_DURABLE_TASK_EVICTION_POLICY = EvictionPolicy(
    ttl=timedelta(minutes=15),
    allow_capacity_eviction=True,
    priority=0,
)

__all__ = ["DEFAULT_DURABLE_TASK_EVICTION_POLICY", "EvictionPolicy"]
