"""Durable tasks: waits that hold no slot, checkpoints that survive any worker.

Each wait of a durable task (``aio_sleep_for``, ``aio_wait_for``, ``aio_wait_for_event``)
is checkpoint ``n`` of its task run (``cp:<task>:<n>`` in the run hash). At a wait:

1. A stored checkpoint is returned at once (a replay passes the waits already done);
   one of another shape raises ``NonDeterminismError``.
2. Otherwise the task *suspends*: the coroutine parks, the Celery task ends with
   ``calls.Suspended`` whose commit registers the wait and moves the task run
   RUNNING -> SUSPENDED in one script (``cond_wait``), releasing its lease: no slot is
   held. When the wait is met, ``cond_satisfy`` stores the checkpoint and queues the task
   run again; its new message is claimed by some worker.
3. If the process that claims it still holds the parked coroutine, the coroutine simply
   resumes (``hand_over``): local state and timings survive, as they do in Hatchet when a
   task is not evicted. Any other process replays the function from the top, and every
   checkpoint already passed returns its stored result. A worker killed mid-task loses
   nothing: its lease expires and the task run is replayed elsewhere.

A parked coroutine whose task run went on elsewhere is cancelled by a sweeper on the
process loop; only the memory of that coroutine is lost, never progress. A coroutine that
waits too long, at a checkpoint or for child runs, is *evicted* as its task's
``EvictionPolicy`` says (``durable_eviction.py`` picks, ``durable_restore.py`` records
and restores): the task run is marked evicted and replays from its checkpoints once its
wait is met. A replay registers a pending wait again anchored at the time it first began
(``ct:<task>:<node>``), so a sleep ends when it would have.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from hatchet_celery._protocol import TaskStatus
from hatchet_celery._runtime.core import aio
from hatchet_celery._runtime.core.calls import Suspended, run_async
from hatchet_celery._runtime.core.watchdog import watchdog
from hatchet_celery._runtime.waits.eviction import MANAGER, reason
from hatchet_celery._runtime.waits.restore import mark_evicted
from hatchet_celery._runtime.waits.store import Resolution, Wait, WaitCondition, register
from hatchet_celery.conditions import (
    Condition,
    OrGroup,
    SleepCondition,
    UserEventCondition,
    flatten,
)
from hatchet_celery.exceptions import NonDeterminismError

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery._runtime.core.watchdog import InFlight
    from hatchet_celery.durable import DurableContext
    from hatchet_celery.runnables.eviction import EvictionPolicy
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)

SWEEP_EVERY = 5.0


class Session:
    """A durable task run executing in this process: its coroutine and the thread
    (Celery slot) currently waiting on it, if any."""

    def __init__(self, task: Task[Any, Any], ctx: DurableContext, inflight: InFlight) -> None:
        self.task = task
        self.ctx = ctx
        self.inflight = inflight
        self.key = (inflight.run_id, task.name)
        self.steps: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.future: concurrent.futures.Future[Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.resume: asyncio.Future[None] | None = None
        # In-process durations (how long it has waited here, for the eviction policy) are
        # on the process's wall clock, as is the eviction loop that compares them.
        self.parked_at = 0.0
        self.strikes = 0
        self.wait_kind = "durable wait"
        # child run id -> how many awaits of it are in progress, and since when
        self.children: Counter[str] = Counter()
        self.children_since = 0.0
        # checkpoint node -> (signature, result) handed over by this process's timer pump
        # when it met the wait: the resumed coroutine need not read it back from Redis
        self.delivered: dict[int, tuple[str, dict[str, Any]]] = {}
        ctx._session = self

    def start(self) -> None:
        self.future = aio.submit(run_async(self.task, self.ctx))
        self.future.add_done_callback(lambda f: self.steps.put(("done", f)))
        self.future.add_done_callback(lambda f: MANAGER.untrack(self))
        self.inflight.future = self.future
        MANAGER.track(self)

    # --- eviction (durable_eviction.Evictable) ----------------------------------------
    @property
    def policy(self) -> EvictionPolicy | None:
        return self.task.eviction_policy

    def _parked(self) -> bool:
        resume = self.resume
        return resume is not None and not resume.done() and PARKED.peek(self.key) is self

    @property
    def waiting_since(self) -> float | None:
        if self._parked():
            return self.parked_at
        if +self.children:
            return self.children_since
        return None

    async def evict(self, cause: str) -> bool:
        """Drop this coroutine from memory, marking its task run evicted (on the loop)."""
        engine, run_id, task = self.inflight.engine, self.key[0], self.key[1]
        if self._parked():
            if not PARKED.take_if(self):
                return False  # claimed again here meanwhile: it resumes
            why = reason(cause, self.wait_kind)
            try:
                await asyncio.to_thread(
                    mark_evicted, engine, run_id, task, self.inflight.claim, why
                )
            finally:
                self.abandon()
            return True
        if +self.children and self.alive():
            children = sorted(c for c, n in self.children.items() if n > 0)
            why = reason(cause, "child workflow run")

            def commit(inflight: InFlight) -> None:
                mark_evicted(engine, run_id, task, inflight.claim, why, children)

            # the slot's thread takes this before the cancelled coroutine's "done"
            self.steps.put(("park", commit))
            self.abandon()
            return True
        return False

    @asynccontextmanager
    async def awaiting(self, run_ids: list[str]) -> AsyncIterator[None]:
        """While the coroutine awaits these child runs it is waiting (evictable)."""
        if not +self.children:
            self.children_since = time.time()
        self.children.update(run_ids)
        try:
            yield
        finally:
            self.children.subtract(run_ids)
            self.children = +self.children

    def alive(self) -> bool:
        return self.future is not None and not self.future.done()

    def next_step(self) -> Any:
        """Block this Celery slot until the coroutine finishes or parks at a wait."""
        kind, value = self.steps.get()
        if kind == "done":
            return value.result()
        # The commit moves the task run out of RUNNING: detach this attempt from the
        # watchdog first, or its claim check would cancel the parked coroutine.
        watchdog().untrack(self.inflight)
        self.inflight.future = None
        raise Suspended(commit=value)

    # --- coroutine side ---------------------------------------------------------------
    # --- what the DurableContext asks (context/runtime_port.DurableSession) -------------
    async def wait(
        self, ctx: DurableContext, items: tuple[Condition | OrGroup, ...]
    ) -> dict[str, Any]:
        return await wait(self, ctx, items)

    async def memo_get(self, ctx: DurableContext, key: str) -> str | None:
        return await memo_get(self, ctx, key)

    async def memo_put(self, ctx: DurableContext, key: str, value: str) -> str:
        return await memo_put(self, ctx, key, value)

    async def earlier_children(self, ctx: DurableContext) -> EarlierChildren:
        return await earlier_children(self, ctx)

    async def park(self, commit: Callable[[InFlight], None]) -> None:
        """Give the slot back and wait (in memory) until this task run is claimed again."""
        self.loop = asyncio.get_running_loop()
        self.resume = self.loop.create_future()
        self.parked_at = time.time()
        self.strikes = 0
        PARKED.put(self)
        self.steps.put(("park", commit))
        await self.resume

    # --- thread side ------------------------------------------------------------------
    def hand_over(self, inflight: InFlight) -> None:
        """The task run was claimed again in this process: resume the parked coroutine."""
        self.inflight = inflight
        inflight.ctx = self.ctx
        inflight.future = self.future
        self.ctx.deadline = inflight.engine.now() + self.task.execution_timeout_s
        self.ctx._cancelled.clear()
        resume, loop = self.resume, self.loop
        if resume is not None and loop is not None:
            loop.call_soon_threadsafe(_wake, resume)

    def abandon(self) -> None:
        """Drop the coroutine (the task run replays wherever it is claimed next)."""
        PARKED.discard(self)
        if self.future is not None and not self.future.done():
            self.future.cancel()


def _wake(resume: asyncio.Future[None]) -> None:
    if not resume.done():
        resume.set_result(None)


class Parking:
    """The parked sessions of this process, by (run id, task)."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], Session] = {}
        self._lock = threading.Lock()
        self._sweeper: concurrent.futures.Future[None] | None = None

    def put(self, session: Session) -> None:
        with self._lock:
            old = self._sessions.get(session.key)
            self._sessions[session.key] = session
            if self._sweeper is None or self._sweeper.done():
                self._sweeper = aio.submit(_sweep())
        if old is not None and old is not session:
            old.abandon()

    def peek(self, key: tuple[str, str]) -> Session | None:
        with self._lock:
            return self._sessions.get(key)

    def take_if(self, session: Session) -> bool:
        """Remove ``session`` if it is still the parked one of its key."""
        with self._lock:
            if self._sessions.get(session.key) is session:
                del self._sessions[session.key]
                return True
            return False

    def take(self, key: tuple[str, str]) -> Session | None:
        with self._lock:
            return self._sessions.pop(key, None)

    def discard(self, session: Session) -> None:
        with self._lock:
            if self._sessions.get(session.key) is session:
                del self._sessions[session.key]

    def sessions(self) -> list[Session]:
        with self._lock:
            return list(self._sessions.values())


PARKED = Parking()


async def _sweep() -> None:
    """Cancel parked coroutines whose task run went on elsewhere."""
    while PARKED.sessions():
        await asyncio.sleep(SWEEP_EVERY)
        try:
            await asyncio.to_thread(_sweep_once)
        except Exception:
            log.exception("hatchet_celery: durable sweeper failed")


def _sweep_once() -> None:
    sessions = PARKED.sessions()
    by_engine: dict[int, list[Session]] = {}
    for s in sessions:
        if not s.alive():
            s.abandon()
        else:
            by_engine.setdefault(id(s.inflight.engine), []).append(s)
    for group in by_engine.values():
        engine = group[0].inflight.engine
        pipe = engine.store.redis.pipeline(transaction=False)
        for s in group:
            pipe.hget(engine.keys.run(s.key[0]), f"s:{s.key[1]}")
        for s, status in zip(group, pipe.execute(), strict=True):
            if status in (TaskStatus.SUSPENDED, TaskStatus.QUEUED):
                s.strikes = 0
            else:
                s.strikes += 1  # twice in a row: claimed elsewhere, finished or gone
                if s.strikes >= 2:
                    s.abandon()


def deliver(engine: Engine, resolution: Resolution) -> None:
    """Hand a met durable wait's result to its coroutine if it is parked in this process
    (called before the task run's message is published, so before it can resume)."""
    session = PARKED.peek((resolution.run_id, resolution.task))
    if session is not None and session.inflight.attempt == resolution.attempt:
        session.delivered[resolution.node] = (resolution.signature, resolution.result)


def run_durable(task: Task[Any, Any], ctx: Any, inflight: InFlight) -> Any:
    """The executor's ``invoke`` for async durable tasks: resume a parked coroutine of this
    task run, or start (replay) the function; returns its output or raises ``Suspended``."""
    session = PARKED.take((inflight.run_id, task.name))
    if session is not None and session.alive() and session.inflight.attempt == inflight.attempt:
        session.hand_over(inflight)
    else:
        if session is not None:
            session.abandon()
        ctx.invocation_count = _invoked(inflight.engine, inflight.run_id, task.name)
        session = Session(task, ctx, inflight)
        session.start()
    return session.next_step()


def _invoked(engine: Engine, run_id: str, task: str) -> int:
    """Count one more execution of the function (the first, a replay, a restore)."""
    return int(engine.store.redis.hincrby(engine.keys.run(run_id), f"ic:{task}", 1))


def evict_all_waiting(engine: Engine) -> None:
    """A clean stop: every durable task run waiting in this process is evicted."""
    count = MANAGER.evict_all_waiting()
    if count:
        log.info("hatchet_celery: evicted %d waiting durable task run(s) at stop", count)


# --- the waits of DurableContext ------------------------------------------------------------
def signature(groups: list[list[Condition]]) -> str:
    """What a replay must meet again at the same checkpoint (keys and times excluded)."""
    shape = []
    for group in groups:
        items = []
        for c in group:
            if isinstance(c, SleepCondition):
                items.append(f"sleep:{c.seconds:g}")
            elif isinstance(c, UserEventCondition):
                items.append(f"event:{c.event_key}:{c.expression or ''}:{c.scope or ''}")
            else:
                items.append(type(c).__name__)
        shape.append(items)
    return json.dumps(shape)


def _conditions(ctx: DurableContext, groups: list[list[Condition]]) -> list[WaitCondition]:
    config = ctx._task.workflow._registry.config
    out: list[WaitCondition] = []
    for gi, group in enumerate(groups):
        for c in group:
            cid = str(len(out))
            if isinstance(c, (SleepCondition, UserEventCondition)):
                event_key = (
                    config.apply_namespace(c.event_key) if isinstance(c, UserEventCondition) else ""
                )
                out.append(
                    WaitCondition.of(c, id=cid, action="CREATE", group=str(gi), event_key=event_key)
                )
            else:
                raise TypeError(
                    f"durable task {ctx.task_name!r}: aio_wait_for takes SleepCondition, "
                    f"UserEventCondition or or_(...) groups, got {type(c).__name__}"
                )
    return out


async def wait(
    session: Session, ctx: DurableContext, items: tuple[Condition | OrGroup, ...]
) -> dict[str, Any]:
    """Checkpoint ``n``: its stored result, or suspend until the conditions are met."""
    groups = flatten(list(items))
    if not groups:
        raise ValueError(f"durable task {ctx.task_name!r}: aio_wait_for needs a condition")
    node = ctx._next_node()
    sig = signature(groups)
    conditions = _conditions(ctx, groups)
    engine = session.inflight.engine
    run_key, field = engine.keys.run(ctx.workflow_run_id), f"cp:{ctx.task_name}:{node}"
    stored = await asyncio.to_thread(engine.store.redis.hget, run_key, field)
    if stored is None:
        # a replay waits from when this wait first began (a restore, a lost worker)
        began = await asyncio.to_thread(_began, engine, run_key, ctx.task_name, node)
        spec = Wait(
            run_id=ctx.workflow_run_id,
            task=ctx.task_name,
            workflow=ctx.workflow_name,
            wid=str(node),
            mode="durable",
            conditions=conditions,
            schedule_timeout=ctx._task.schedule_timeout_s,
            since=began,
            node=node,
            signature=sig,
        )

        def commit(inflight: InFlight) -> None:
            if not register(engine, spec, inflight.claim, began):
                session.abandon()  # cancelled or timed out meanwhile: nothing to wait for

        session.wait_kind = _kind(groups)
        await session.park(commit)
        handed = session.delivered.pop(node, None)
        if handed is not None and handed[0] == sig:
            return handed[1]
        stored = await asyncio.to_thread(engine.store.redis.hget, run_key, field)
        if stored is None:
            raise RuntimeError(f"durable task {ctx.task_name!r}: checkpoint {node} is missing")
    record = json.loads(stored)
    if record.get("sig") != sig:
        raise NonDeterminismError(
            ctx.task_run_id,
            ctx.invocation_count,
            f"durable task {ctx.task_name!r} reached checkpoint {node} waiting for {sig}, "
            f"but the recorded run waited there for {record.get('sig')}",
            node_id=node,
        )
    result: dict[str, Any] = record["r"]
    return result


def _began(engine: Engine, run_key: str, task: str, node: int) -> float:
    """When the wait of checkpoint ``node`` first began (recorded by its first execution)."""
    pipe = engine.store.redis.pipeline(transaction=False)
    pipe.hsetnx(run_key, f"ct:{task}:{node}", repr(engine.now()))
    pipe.hget(run_key, f"ct:{task}:{node}")
    return float(pipe.execute()[1])


def _kind(groups: list[list[Condition]]) -> str:
    kinds = {
        "sleep" if isinstance(c, SleepCondition) else "event" for group in groups for c in group
    }
    return " or ".join(sorted(kinds))


class EarlierChildren:
    """The child runs earlier executions of a durable task run spawned by index (no
    ``child_key``), by workflow and input: a re-execution takes each one back by what
    it spawns, not by the order concurrent branches happen to spawn in."""

    def __init__(self, children: dict[int, tuple[str, str]], next_free: int) -> None:
        self._by_spawn: dict[tuple[str, str], list[int]] = {}
        for index in sorted(children):
            self._by_spawn.setdefault(children[index], []).append(index)
        self.next_free = next_free  # above every index bound so far (gone runs too)

    def take(self, workflow: str, input_json: str) -> int | None:
        found = self._by_spawn.get((workflow, input_json))
        return found.pop(0) if found else None

    def fresh(self) -> int:
        index = self.next_free
        self.next_free += 1
        return index


async def earlier_children(session: Session, ctx: DurableContext) -> EarlierChildren:
    engine = session.inflight.engine
    return await asyncio.to_thread(_read_children, engine, ctx.workflow_run_id, ctx.task_name)


def _read_children(engine: Engine, run_id: str, task: str) -> EarlierChildren:
    redis, keys = engine.store.redis, engine.keys
    prefix = f"k:{task}:i:"
    bound = {
        int(str(field)[len(prefix) :]): str(child)
        for field, child in redis.hscan_iter(keys.run(run_id), match=f"{prefix}*", count=500)
    }
    pipe = redis.pipeline(transaction=False)
    for child in bound.values():
        pipe.hmget(keys.run(child), ["wf", "in"])
    rows = pipe.execute()
    return EarlierChildren(
        {
            index: (str(row[0]), str(row[1] or "{}"))
            for index, row in zip(bound, rows, strict=True)
            if row[0] is not None
        },
        max(bound, default=-1) + 1,
    )


async def memo_get(session: Session, ctx: DurableContext, key: str) -> str | None:
    engine = session.inflight.engine
    value = await asyncio.to_thread(
        engine.store.redis.hget,
        engine.keys.run(ctx.workflow_run_id),
        f"cm:{ctx.task_name}:{key}",
    )
    return str(value) if value is not None else None


async def memo_put(session: Session, ctx: DurableContext, key: str, value: str) -> str:
    """Store a memoized value; the first one stored wins (replays agree)."""
    engine = session.inflight.engine
    run_key, field = engine.keys.run(ctx.workflow_run_id), f"cm:{ctx.task_name}:{key}"
    if not await asyncio.to_thread(engine.store.redis.hsetnx, run_key, field, value):
        stored = await asyncio.to_thread(engine.store.redis.hget, run_key, field)
        return str(stored) if stored is not None else value
    return value


__all__ = [
    "PARKED",
    "Session",
    "evict_all_waiting",
    "memo_get",
    "memo_put",
    "run_durable",
    "wait",
]
