"""Which waiting durable task runs this process evicts from its memory, and when.

Every durable task run executing in this process (``durable_waits.Session``) is tracked
here. While it waits (parked at a checkpoint, or awaiting child runs) it is a candidate:
once a second, on the process event loop, ``select`` picks the candidates past their
policy's TTL (lowest ``priority``, then longest waiting, first), then, when the waiting
runs fill the worker's durable slots, the ones that allow capacity eviction and have
waited at least ``MIN_WAIT_FOR_CAPACITY``. Each pick is evicted by the session itself
(``Evictable.evict``): its Redis transition first, then its coroutine is dropped. On a
clean stop every waiting run is evicted (``evict_all_waiting``).

``select`` is a pure function of the candidates and ``now``, so the policy is tested
with literal times.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from hatchet_celery._runtime.core import aio
from hatchet_celery.runnables.eviction import EvictionPolicy

log = logging.getLogger(__name__)

CHECK_INTERVAL = 1.0
MIN_WAIT_FOR_CAPACITY = 10.0
RESERVE_SLOTS = 0
# No capacity limit unless the worker is given ``durable_slots``: a waiting durable task holds
# no slot here (DESIGN §3), so capacity eviction is only the memory bound a worker asks for;
# by default it would replay thousands of sleeping tasks from the top for nothing.
DEFAULT_DURABLE_SLOTS = 0


class Evictable(Protocol):
    """A durable task run executing here (``durable_waits.Session``)."""

    @property
    def policy(self) -> EvictionPolicy | None: ...

    @property
    def waiting_since(self) -> float | None:
        """When its current wait began; None while it runs."""

    async def evict(self, cause: str) -> bool:
        """Evict it (on the process loop); False when it is no longer evictable."""


@dataclass(frozen=True)
class Pick:
    run: Evictable
    cause: str  # ttl_exceeded | capacity_pressure | worker_shutdown


def _order(c: Evictable) -> tuple[int, float]:
    policy = c.policy
    return (policy.priority if policy else 0, _since(c))


def _since(c: Evictable) -> float:
    since = c.waiting_since
    return since if since is not None else float("inf")


def select(
    candidates: Iterable[Evictable],
    now: float,
    durable_slots: int,
    reserve_slots: int = RESERVE_SLOTS,
    min_wait_for_capacity: float = MIN_WAIT_FOR_CAPACITY,
) -> Pick | None:
    """The next run to evict, or None (Hatchet's order: TTL first, then capacity)."""
    waiting = [c for c in candidates if c.waiting_since is not None and c.policy is not None]
    if not waiting:
        return None
    expired = []
    for c in waiting:
        ttl = c.policy.ttl if c.policy else None
        if ttl is not None and now - _since(c) >= ttl.total_seconds():
            expired.append(c)
    if expired:
        return Pick(min(expired, key=_order), "ttl_exceeded")
    room = durable_slots - reserve_slots
    if durable_slots <= 0 or room <= 0 or len(waiting) < room:
        return None
    movable = [
        c
        for c in waiting
        if c.policy is not None
        and c.policy.allow_capacity_eviction
        and now - _since(c) >= min_wait_for_capacity
    ]
    if not movable:
        return None
    return Pick(min(movable, key=_order), "capacity_pressure")


def reason(cause: str, kind: str) -> str:
    """The eviction reason recorded with the task run (as Hatchet words it)."""
    if cause == "ttl_exceeded":
        return f"Wait TTL exceeded while waiting on {kind}"
    if cause == "capacity_pressure":
        return f"Worker at capacity while waiting on {kind}"
    return f"Worker shutdown while waiting on {kind}"


class Manager:
    """The durable task runs of this process, and the loop that evicts them."""

    def __init__(self) -> None:
        self.durable_slots = DEFAULT_DURABLE_SLOTS
        self._runs: set[Evictable] = set()
        self._lock = threading.Lock()
        self._loop: concurrent.futures.Future[None] | None = None
        self._pid = 0

    def track(self, run: Evictable) -> None:
        with self._lock:
            self._runs.add(run)
            # a forked child inherits a loop future it does not run: start its own
            if self._loop is None or self._loop.done() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._loop = aio.submit(self._run())

    def untrack(self, run: Evictable) -> None:
        with self._lock:
            self._runs.discard(run)

    def runs(self) -> list[Evictable]:
        with self._lock:
            return list(self._runs)

    async def _run(self) -> None:
        while self.runs():
            await asyncio.sleep(CHECK_INTERVAL)
            try:
                await self.tick(time.time())
            except Exception:
                log.exception("hatchet_celery: durable eviction pass failed")

    async def tick(self, now: float) -> int:
        """Evict every run the policy picks now; returns how many were evicted."""
        tried: set[Evictable] = set()
        evicted = 0
        while True:
            pick = select((r for r in self.runs() if r not in tried), now, self.durable_slots)
            if pick is None:
                return evicted
            tried.add(pick.run)
            if await pick.run.evict(pick.cause):
                evicted += 1
                self.untrack(pick.run)

    async def evict_waiting(self, cause: str = "worker_shutdown") -> int:
        evicted = 0
        for run in self.runs():
            if run.waiting_since is not None and await run.evict(cause):
                evicted += 1
                self.untrack(run)
        return evicted

    def evict_all_waiting(self, timeout: float = 10.0) -> int:
        """Evict every waiting run now (a clean stop); from any thread but the loop's."""
        if not self.runs():
            return 0
        try:
            return aio.run(self.evict_waiting(), timeout=timeout)
        except Exception:
            log.exception("hatchet_celery: evicting waiting durable runs at stop failed")
            return 0


MANAGER = Manager()

__all__ = ["MANAGER", "Evictable", "Manager", "Pick", "reason", "select"]
