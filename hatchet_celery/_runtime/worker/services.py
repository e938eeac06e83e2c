"""Background services of a worker: the timer pump, the lease reaper and retention.

A worker told to stop (SIGTERM: Celery's warm shutdown) drains: it stops consuming, reports
``PAUSED`` in ``hatchet.workers`` at once, and keeps its services (heartbeat, pump) and its
leases (renewed by the executing process's watchdog) alive until the tasks in flight have
finished, so none of them looks lost and is handed to another worker meanwhile.

The timer pump is the one mechanism behind every delay (DESIGN §3): entries of the
``timers`` sorted set are claimed atomically by whichever worker polls first, handled by
the function registered for their kind, and removed or re-armed by that handler. A
handler that dies leaves its entry claimed for ``CLAIM_LEASE`` seconds, then it is due
again, so no timer is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from celery import signals
from celery.worker import state as celery_state

from hatchet_celery._runtime.core.engine import REDISPATCH_SECONDS
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.process import PROCESS

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery._runtime.registry import Registry

log = logging.getLogger(__name__)

CLAIM_LEASE = 30.0
BATCH = 200
# How long a draining worker waits for its tasks beyond the longest execution timeout it
# serves (by then the watchdog has timed them out).
DRAIN_GRACE = 10.0
REAP_EVERY = 1.0
RETENTION_EVERY = 60.0

TimerHandler = Callable[["Engine", str, float], None]
# kind (the member's text before the first "|") -> handler. Features add their kinds.
TIMER_HANDLERS: dict[str, TimerHandler] = {}


def timer_handler(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    def register(fn: TimerHandler) -> TimerHandler:
        TIMER_HANDLERS[kind] = fn
        return fn

    return register


BatchTimerHandler = Callable[["Engine", list[str], float], None]
# kind -> handler of every due member of that kind claimed in one poll, so a burst of
# timers costs a few round trips per batch instead of several per timer. Takes precedence
# over TIMER_HANDLERS; a member the batch handler could not handle stays claimed and is
# due again after CLAIM_LEASE.
TIMER_BATCH_HANDLERS: dict[str, BatchTimerHandler] = {}


def timer_batch_handler(kind: str) -> Callable[[BatchTimerHandler], BatchTimerHandler]:
    def register(fn: BatchTimerHandler) -> BatchTimerHandler:
        TIMER_BATCH_HANDLERS[kind] = fn
        return fn

    return register


@timer_handler("d")
@timer_handler("w")
def fire_task_timer(engine: Engine, member: str, now: float) -> None:
    """Dispatch a retry whose backoff ended, or re-dispatch / time out a queued task."""
    from hatchet_celery._runtime.core.transitions import record_failure
    from hatchet_celery.exceptions import TaskTimeoutError

    kind, attempt, run_id, task_name = member.split("|", 3)
    keys = engine.keys
    res = engine.store.script(
        "timer_fire",
        [keys.run(run_id), keys.timers],
        [member, kind, attempt, run_id, task_name, now, now + REDISPATCH_SECONDS],
    )
    if res[0] == "dispatch":
        priority = int(res[2]) if len(res) > 2 and res[2] else None
        parent_id = res[3] if len(res) > 3 and res[3] else None
        item = Ready(res[1], task_name, run_id, "", int(attempt), parent_id, priority)
        if kind == "d":  # a retry goes through the gates again (slots, tokens)
            engine.dispatch([item])
        else:  # the watchdog re-sends a message that may have been lost; the gates let an
            # admitted task run through again (they are idempotent per attempt) and route
            # it to a live worker (its message may sit in the queue of one that died)
            engine.dispatch([item])
    elif res[0] == "timeout":
        task = engine.registry.tasks.get(engine.celery_name(_wf_of(engine, run_id), task_name))
        claim = str(engine.store.redis.hget(keys.run(run_id), f"c:{task_name}") or "0")
        if task is None:  # another worker's task: its deadline holds all the same
            if any(
                expire(engine, run_id, task_name, int(attempt), now)
                for expire in engine.extensions.undeclared_timeouts
            ):
                engine.store.redis.zrem(keys.timers, member)
            return  # else (shape unknown) the claimed timer is due again after CLAIM_LEASE
        record_failure(
            engine,
            task,
            run_id,
            claim,
            int(attempt),
            "",
            TaskTimeoutError(
                f"task {task_name!r} waited in the queue longer than its schedule_timeout "
                f"({task.schedule_timeout_s:g}s): SCHEDULING_TIMED_OUT"
            ),
            expected="QUEUED",
            retry_allowed=False,
        )
        engine.store.redis.zrem(keys.timers, member)


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
        schedule = task.schedule_timeout_s if task is not None else 300.0
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

    def __init__(self, registry: Registry, worker: Any = None) -> None:
        self.registry = registry
        self.worker = worker
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        engine = self.registry.engine()
        PROCESS.draining = False
        engine.register_worker(PROCESS)
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
        interval = engine.config.timer_interval
        last_reap = last_retention = last_beat = 0.0
        failures = 0
        while not self._stop.is_set():
            now = time.time()
            try:
                busy = self.pump_once(engine, now)
                if now - last_reap >= REAP_EVERY:
                    reap_lost(engine, now)
                    last_reap = now
                if now - last_beat >= 5.0:
                    engine.heartbeat(PROCESS, stopped=PROCESS.draining)
                    last_beat = now
                # at least twice per retention period, so a short retention keeps memory low
                retention = engine.config.retention_seconds
                every = (
                    min(RETENTION_EVERY, max(1.0, retention / 2))
                    if retention > 0
                    else RETENTION_EVERY
                )
                if now - last_retention >= every:
                    engine.trim_index(now)
                    last_retention = now
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

    @staticmethod
    def pump_once(engine: Engine, now: float) -> bool:
        """Handle the due timers; returns True when a full batch was due (poll again now)."""
        members = engine.store.script("claim_due", [engine.keys.timers], [now, BATCH, CLAIM_LEASE])
        batches: dict[str, list[str]] = {}
        for member in members:
            kind = member.split("|", 1)[0]
            if kind in TIMER_BATCH_HANDLERS:
                batches.setdefault(kind, []).append(member)
        for kind, batch in batches.items():
            try:
                TIMER_BATCH_HANDLERS[kind](engine, batch, now)
            except Exception:
                log.exception(
                    "hatchet_celery: %d %r timers failed (retried later)", len(batch), kind
                )
        for member in members:
            if member.split("|", 1)[0] in TIMER_BATCH_HANDLERS:
                continue
            handler = TIMER_HANDLERS.get(member.split("|", 1)[0])
            if handler is None:
                log.error("hatchet_celery: no handler for timer %r", member)
                continue
            try:
                handler(engine, member, now)
            except Exception:
                log.exception("hatchet_celery: timer %r failed; it will be retried", member)
        return len(members) >= BATCH
