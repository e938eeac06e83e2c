"""Wait for runs to finish: one pub/sub connection and one thread per process.

Finishing a run publishes its id on the ``done`` channel (in the same Lua script that
records the final status). A waiter registers its future first, then reads the status
once, so a run that finished before the subscription is still seen; after a reconnect
every pending run is read again, so a message missed while disconnected is not fatal.

Every second the listener also hands the runs it waits on to the engine's ``wait_sweeps``
(``deadlines.sweep``: with no worker up, it fails the task runs past their schedule
timeout, so ``result()`` does not block on a run that nobody will ever start).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import threading
import time
from typing import Any

import redis

from hatchet_celery._protocol import TERMINAL
from hatchet_celery._store import Store

log = logging.getLogger(__name__)

SWEEP_EVERY = 1.0
# The most runs one sweep reads (a long wait list is taken in turns).
SWEEP_MAX = 500


class RunWaiter:
    def __init__(self, store: Store, engine: Any = None) -> None:
        self.store = store
        self.engine = engine  # for the sweeps; None: no sweeping
        self._next_sweep = 0.0  # time.monotonic()
        self._sweep_from = 0
        self._pending: dict[str, list[concurrent.futures.Future[None]]] = {}
        # Runs watched before they were created (``expect``): their futures need no check.
        self._expected: dict[str, concurrent.futures.Future[None]] = {}
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def _ensure_listening(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._pending = {}
            self._expected = {}
            self._subscribed.clear()
            self._thread = threading.Thread(
                target=self._listen, name="hatchet-celery-waiter", daemon=True
            )
            self._thread.start()
        if not self._subscribed.wait(10):
            raise TimeoutError("could not subscribe to run completions in Redis")

    def wait(self, run_id: str) -> concurrent.futures.Future[None]:
        return self.wait_many([run_id])[0]

    def wait_many(self, run_ids: list[str]) -> list[concurrent.futures.Future[None]]:
        self._ensure_listening()
        futures: list[concurrent.futures.Future[None]] = []
        unchecked: list[str] = []
        with self._lock:
            for run_id in run_ids:
                expected = self._expected.pop(run_id, None)
                if expected is not None:
                    futures.append(expected)
                    continue
                fut: concurrent.futures.Future[None] = concurrent.futures.Future()
                self._pending.setdefault(run_id, []).append(fut)
                futures.append(fut)
                unchecked.append(run_id)
        self._check(list(dict.fromkeys(unchecked)))
        return futures

    def expect(self, run_ids: list[str]) -> bool:
        """Watch runs this process is about to create; call it before creating them.

        With the listener already subscribed, a run created after this call cannot finish
        unseen, so ``wait_many`` hands out its future without reading its status: one round
        trip less per ``run()``. Returns False (nothing watched) while the listener is not
        up; runs that end up not created must be passed to ``forget``.
        """
        with self._lock:
            live = self._thread is not None and self._thread.is_alive()
            if not live or self._pid != os.getpid() or not self._subscribed.is_set():
                return False
            for run_id in run_ids:
                fut: concurrent.futures.Future[None] = concurrent.futures.Future()
                self._pending.setdefault(run_id, []).append(fut)
                self._expected[run_id] = fut
        return True

    def forget(self, run_ids: list[str]) -> None:
        """Stop watching expected runs that were not created (or existed before)."""
        with self._lock:
            for run_id in run_ids:
                fut = self._expected.pop(run_id, None)
                futures = self._pending.get(run_id, [])
                if fut is not None and fut in futures:
                    futures.remove(fut)
                    if not futures:
                        del self._pending[run_id]

    def _check(self, run_ids: list[str]) -> None:
        """Resolve the runs among ``run_ids`` that are already finished (or gone)."""
        if not run_ids:
            return
        pipe = self.store.redis.pipeline(transaction=False)
        for run_id in run_ids:
            pipe.hget(self.store.keys.run(run_id), "st")
        for run_id, status in zip(run_ids, pipe.execute(), strict=True):
            if status is None and run_id in self._expected:
                continue  # expected: being created now, after the subscription
            if status is None or status in TERMINAL:
                self._resolve(run_id)

    def _resolve(self, run_id: str) -> None:
        with self._lock:
            futures = self._pending.pop(run_id, [])
            self._expected.pop(run_id, None)
        for fut in futures:
            if not fut.done():
                fut.set_result(None)

    def _sweep(self) -> None:
        """Hand (a turn of) the runs waited on to the sweeps, once per ``SWEEP_EVERY``."""
        if self.engine is None or time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_EVERY
        now = self.engine.now()
        with self._lock:
            pending = list(self._pending)
        if not pending:
            return
        start = self._sweep_from if self._sweep_from < len(pending) else 0
        batch = pending[start : start + SWEEP_MAX]
        self._sweep_from = start + len(batch)
        for sweep in self.engine.extensions.wait_sweeps:
            try:
                sweep(self.engine, batch, now)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                raise  # the listener reconnects
            except Exception:
                log.exception("hatchet_celery: run-completion sweep %r failed", sweep)

    def _listen(self) -> None:
        channel = self.store.keys.done_channel
        backoff = 0.1
        while True:
            pubsub = self.store.redis.pubsub()  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(channel)
                # The confirmation proves the subscription is live before waiters rely on it.
                while True:
                    first = pubsub.get_message(timeout=5.0)
                    if first is not None and first.get("type") == "subscribe":
                        break
                reconnected = self._subscribed.is_set()
                self._subscribed.set()
                if reconnected:
                    with self._lock:
                        pending = list(self._pending)
                    self._check(pending)
                backoff = 0.1
                while True:
                    message = pubsub.get_message(timeout=SWEEP_EVERY)
                    if message is not None and message.get("type") == "message":
                        self._resolve(message["data"])
                    self._sweep()
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                # Quiet for a short blip (and at interpreter exit); loud if it lasts.
                level = logging.WARNING if backoff >= 1.6 else logging.DEBUG
                log.log(level, "hatchet_celery: run-completion listener reconnecting: %s", exc)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:  # pragma: no cover - keep the listener alive whatever happens
                log.exception("hatchet_celery: run-completion listener error")
                time.sleep(backoff)
            finally:
                with contextlib.suppress(Exception):
                    pubsub.close()


__all__ = ["RunWaiter"]
_ = Any
