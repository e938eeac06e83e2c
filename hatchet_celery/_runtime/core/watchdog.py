"""One thread per executing process: renews the leases of running task runs and
enforces execution timeouts (sync functions cannot be interrupted, so the attempt is
recorded as timed out, the context's cancellation flag is set, and the late outcome of
the thread is rejected by its claim token; async functions are cancelled)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hatchet_celery._protocol import TaskStatus
from hatchet_celery._runtime.core.transitions import record_failure
from hatchet_celery.exceptions import TaskTimeoutError

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.context import Context
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)
TICK = 0.05
# How often the claims of running attempts are checked (cancellation reaches a running
# task within this delay).
CHECK_EVERY = 0.25


@dataclass(eq=False)
class InFlight:
    engine: Engine
    task: Task[Any, Any]
    ctx: Context
    run_id: str
    claim: str
    attempt: int
    future: Any = None
    timed_out: bool = False
    renewed_at: float = field(init=False)  # the engine's clock when its lease was renewed

    def __post_init__(self) -> None:
        self.renewed_at = self.engine.now()  # the claim wrote the lease just now

    @property
    def lease_member(self) -> str:
        return f"{self.claim}|{self.run_id}|{self.task.name}"

    def stop(self) -> None:
        """Give up the attempt: its outcome is no longer recorded, and it is asked to stop
        (``ctx.is_cancelled``; an async one is cancelled)."""
        self.timed_out = True
        self.ctx._mark_cancelled()
        if self.future is not None:
            self.future.cancel()


class Watchdog:
    def __init__(self) -> None:
        self._inflight: set[InFlight] = set()
        self._lock = threading.Lock()
        self._last_check = 0.0  # time.monotonic() of the last claim check
        self._thread = threading.Thread(
            target=self._loop, name="hatchet-celery-watchdog", daemon=True
        )
        self._thread.start()

    def track(self, item: InFlight) -> None:
        with self._lock:
            self._inflight.add(item)

    def untrack(self, item: InFlight) -> None:
        with self._lock:
            self._inflight.discard(item)

    def _loop(self) -> None:
        while True:
            time.sleep(TICK)
            try:
                self._tick()
            except Exception:  # keep enforcing whatever one tick met
                log.exception("hatchet_celery: watchdog tick failed")

    def _tick(self) -> None:
        """Check claims (every ``CHECK_EVERY`` s), time out attempts past their deadline and
        renew leases, each against its engine's clock."""
        with self._lock:
            items = list(self._inflight)
        if items and time.monotonic() - self._last_check >= CHECK_EVERY:
            self._last_check = time.monotonic()
            self._check_claims(items)
        for engine, group in _by_engine(items):
            self._enforce(engine, group, engine.now())

    def _enforce(self, engine: Engine, items: list[InFlight], now: float) -> None:
        for item in items:
            if not item.timed_out and now >= item.ctx.deadline:
                self._time_out(item)
        due = [i for i in items if now - i.renewed_at >= engine.config.lease_seconds / 3]
        if due:
            pipe = engine.store.redis.pipeline(transaction=False)
            for item in due:
                pipe.zadd(
                    engine.keys.leases,
                    {item.lease_member: now + engine.config.lease_seconds},
                    xx=True,
                )
                item.renewed_at = now
            pipe.execute()

    def _check_claims(self, items: list[InFlight]) -> None:
        """Stop attempts that lost their claim (run cancelled, lease taken over)."""
        for engine, group in _by_engine([i for i in items if not i.timed_out]):
            pipe = engine.store.redis.pipeline(transaction=False)
            for item in group:
                name = item.task.name
                pipe.hmget(engine.keys.run(item.run_id), f"s:{name}", f"c:{name}")
            for item, (status, claim) in zip(group, pipe.execute(), strict=True):
                if status != TaskStatus.RUNNING or claim != item.claim:
                    item.stop()

    def _time_out(self, item: InFlight) -> None:
        item.stop()
        seconds = item.task.execution_timeout_s
        record_failure(
            item.engine,
            item.task,
            item.run_id,
            item.claim,
            item.attempt,
            item.ctx.task_run_id,
            TaskTimeoutError(f"Task exceeded timeout of {seconds:g}s (TIMED_OUT)"),
        )


def _by_engine(items: list[InFlight]) -> Iterator[tuple[Engine, list[InFlight]]]:
    """The items grouped by engine (one pipeline each)."""
    groups: dict[int, list[InFlight]] = {}
    for item in items:
        groups.setdefault(id(item.engine), []).append(item)
    for group in groups.values():
        yield group[0].engine, group


_lock = threading.Lock()
_watchdog: Watchdog | None = None
_pid = 0


def watchdog() -> Watchdog:
    global _watchdog, _pid
    if _watchdog is None or _pid != os.getpid():
        with _lock:
            if _watchdog is None or _pid != os.getpid():
                _watchdog = Watchdog()
                _pid = os.getpid()
    return _watchdog
