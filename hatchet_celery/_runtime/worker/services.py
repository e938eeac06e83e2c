"""Background services of a worker: heartbeat, the lease reaper, retention, the drain.

One thread runs them, and the timer pump (``timers.TimerPump``, given the timer table of
the engine's extensions: ``timer_kinds.TIMER_KINDS``) on the same beat.

A worker told to stop (SIGTERM: Celery's warm shutdown) drains: it stops consuming, reports
``PAUSED`` in ``hatchet.workers`` at once, and keeps its services (heartbeat, pump) and its
leases (renewed by the executing process's watchdog) alive until the tasks in flight have
finished, so none of them looks lost and is handed to another worker meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from celery import signals
from celery.worker import state as celery_state

from hatchet_celery._runtime.core.engine import DEFAULT_SCHEDULE_TIMEOUT
from hatchet_celery._runtime.core.process import PROCESS
from hatchet_celery._runtime.timing.timers import BATCH, CLAIM_LEASE, TimerPump, TimerTable

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery._runtime.registry import Registry

log = logging.getLogger(__name__)

# How long a draining worker waits for its tasks beyond the longest execution timeout it
# serves (by then the watchdog has timed them out).
DRAIN_GRACE = 10.0
REAP_EVERY = 1.0
RETENTION_EVERY = 60.0


def _wf_of(engine: Engine, run_id: str) -> str:
    return str(engine.store.redis.hget(engine.keys.run(run_id), "wf") or "")


def reap_lost(engine: Engine, now: float) -> int:
    """Requeue task runs whose worker stopped renewing their lease."""
    keys = engine.keys
    members = engine.store.script("claim_due", [keys.leases], [now, BATCH, CLAIM_LEASE])
    count = 0
    for member in members:
        claim, run_id, task_name = member.split("|", 2)
        task = engine.registry.tasks.get(engine.celery_name(_wf_of(engine, run_id), task_name))
        schedule = task.schedule_timeout_s if task is not None else DEFAULT_SCHEDULE_TIMEOUT
        count += int(
            engine.store.script(
                "requeue_lost",
                [keys.leases, keys.run(run_id), keys.timers],
                [member, run_id, task_name, claim, now, now + schedule],
            )
        )
    if count:
        log.warning("hatchet_celery: requeued %d task run(s) whose worker was lost", count)
    return count


class WorkerServices:
    """Started by the worker bootstep (``celery worker``) or by ``Worker.start()``."""

    def __init__(
        self, registry: Registry, worker: Any = None, timer_kinds: TimerTable | None = None
    ) -> None:
        self.registry = registry
        self.worker = worker
        self.timer_kinds = timer_kinds
        # Built at start (it needs the engine); ``pump.faults`` is the crash-test seam.
        self.pump: TimerPump | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        engine = self.registry.engine()
        PROCESS.draining = False
        engine.register_worker(PROCESS)
        self.pump = TimerPump(engine, self.timer_kinds or engine.extensions.timer_kinds)
        for listener in engine.extensions.worker_started:
            try:
                listener(engine)
            except Exception:
                log.exception("hatchet_celery: worker start hook %r failed", listener)
        self._thread = threading.Thread(target=self._loop, name="hatchet-celery-pump", daemon=True)
        self._thread.start()
        signals.worker_shutting_down.connect(self._on_shutting_down, weak=False)

    def _on_shutting_down(self, **_: Any) -> None:
        # Runs in Celery's signal handler: the Redis write goes to a thread of its own.
        threading.Thread(
            target=self.begin_draining, name="hatchet-celery-drain", daemon=True
        ).start()

    def begin_draining(self) -> None:
        """Take no new work (routing skips this worker) and report PAUSED at once."""
        if PROCESS.draining:
            return
        PROCESS.draining = True
        try:
            self.registry.engine().heartbeat(PROCESS, stopped=True)
        except Exception:
            log.debug("hatchet_celery: could not record the worker's draining", exc_info=True)

    def _wait_drained(self) -> None:
        """Wait (bounded) for the tasks in flight; a cold shutdown does not wait."""
        if celery_state.should_terminate:
            return
        longest = max((t.execution_timeout_s for t in self.registry.tasks.values()), default=0.0)
        deadline = time.monotonic() + longest + DRAIN_GRACE
        while celery_state.active_requests and time.monotonic() < deadline:
            if celery_state.should_terminate:
                return
            time.sleep(0.1)

    def stop(self) -> None:
        signals.worker_shutting_down.disconnect(self._on_shutting_down)
        self.begin_draining()
        self._wait_drained()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        engine = self.registry.engine()
        for listener in engine.extensions.worker_stopping:
            try:
                listener(engine)
            except Exception:
                log.exception("hatchet_celery: worker stop hook %r failed", listener)
        PROCESS.draining = False
        try:  # routing stops sending work to this worker's own queue at once
            self.registry.engine().heartbeat(PROCESS, stopped=True)
        except Exception:
            log.debug("hatchet_celery: could not record the worker's stop", exc_info=True)

    def _loop(self) -> None:
        engine = self.registry.engine()
        pump = self.pump
        assert pump is not None
        interval = engine.config.timer_interval
        # the cadence of each chore on the monotonic clock; what it does on the engine's
        last_reap = last_retention = last_beat = float("-inf")
        failures = 0
        while not self._stop.is_set():
            now, tick = engine.now(), time.monotonic()
            try:
                busy = pump.run_once(now)
                if tick - last_reap >= REAP_EVERY:
                    reap_lost(engine, now)
                    last_reap = tick
                if tick - last_beat >= 5.0:
                    engine.heartbeat(PROCESS, stopped=PROCESS.draining)
                    last_beat = tick
                # at least twice per retention period, so a short retention keeps memory low
                retention = engine.config.retention_seconds
                every = (
                    min(RETENTION_EVERY, max(1.0, retention / 2))
                    if retention > 0
                    else RETENTION_EVERY
                )
                if tick - last_retention >= every:
                    engine.trim_index(now)
                    last_retention = tick
            except Exception as exc:
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning(
                        "hatchet_celery: timer pump iteration failed (%d): %s", failures, exc
                    )
                busy = False
            else:
                failures = 0
            if not busy:
                self._stop.wait(interval)
