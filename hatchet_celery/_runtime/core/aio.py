"""One event loop per process, on its own thread, for every async task and bridge.

Async task functions of a worker share this loop, so ``slots=100`` async tasks that
await I/O run 100 at a time; sync code reaches it with ``run()`` / ``submit()``.
A forked child (prefork pool) gets a fresh loop on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="hatchet-celery-loop", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


_lock = threading.Lock()
_loop: LoopThread | None = None
_pid = 0


def loop_thread() -> LoopThread:
    global _loop, _pid
    with _lock:
        if _loop is None or _pid != os.getpid():
            _loop = LoopThread()
            _pid = os.getpid()
        return _loop


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    return loop_thread().submit(coro)


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the process loop and wait for it (never call from that loop)."""
    return submit(coro).result(timeout)
