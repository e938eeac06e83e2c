"""Batch tasks: members collected in Redis, one execution per batch, an output per member.

Each trigger of a batch task is a run of its own (a *member*). When a member's task run
is ready, the batch gate parks it (``WAIT_BATCH``, holding no slot) in the buffer of its
group (``batch_group_key``, a CEL expression over the input; one buffer without it)
with ``batch_flush.lua``, which also flushes the buffer in the same step when it holds
``batch_max_size`` members or ``MAX_BATCH_BYTES`` of input, or when its ``bf`` timer
fires ``batch_max_interval`` after its oldest member arrived. A flush makes a batch of
the oldest members and queues its first one, the *leader*, like any task run; the
leader's execution (``run_batch``) claims the other members (RUNNING, their leases
renewed while it runs), calls the function once with every member's input by task run
id (``BatchMemberId``), then records each member's output (the same one for all with
``broadcast_output``), failure or cancellation, as if each had run alone.

A worker lost during a batch stops renewing the leases: the leader and the members are
queued again, each then running the members still waiting for its batch (itself at
least). A member retried after a failure is batched again (``bt:<task>`` names the
attempt it was batched with).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatchet_celery._cel import CelEvaluationError
from hatchet_celery._protocol import TaskStatus
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.process import PROCESS
from hatchet_celery._runtime.core.timer_outcome import Outcome, retry_later
from hatchet_celery._runtime.core.transitions import (
    record_failure,
    record_success,
    serialize_output,
)
from hatchet_celery._runtime.flow import common as flow
from hatchet_celery._runtime.ops import cancellation
from hatchet_celery._timer_entries import BatchFlush
from hatchet_celery.exceptions import NonRetryableException
from hatchet_celery.runnables.batch import call, group_program, member_output
from hatchet_celery.runnables.types import BatchTaskConfig

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.context import Context
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)

WAIT_BATCH = TaskStatus.WAIT_BATCH
MAX_BATCH_BYTES = 4 * 1024 * 1024  # a batch is flushed once its inputs reach 4 MiB
DEFAULT_GROUP_MAX_RUNS = 100  # Hatchet's default batch_group_max_runs of a keyed group
LOST_AFTER = 60.0  # past its execution timeout, a running batch no longer counts


def _spec(task: Task[Any, Any]) -> BatchTaskConfig:
    spec = task.batch
    assert spec is not None
    return spec


def _max_runs(spec: BatchTaskConfig, group: str) -> int | str:
    """How many batches of a group may run at once (keyed groups only, as in Hatchet)."""
    if not group.strip():
        return ""
    return spec.batch_group_max_runs or DEFAULT_GROUP_MAX_RUNS


def _interval(spec: BatchTaskConfig) -> float | str:
    interval = spec.batch_max_interval
    return "" if interval is None else interval.total_seconds()


def _timer(workflow: str, task: str, group: str) -> str:
    return BatchFlush(workflow, task, group).member


class BatchGate:
    """Parks the ready members of batch tasks in their group's buffer."""

    name = "batch"

    def applies(self, task: Task[Any, Any]) -> bool:
        return getattr(task, "batch", None) is not None

    def admit(self, engine: Engine, task: Task[Any, Any], items: list[Ready]) -> list[Ready]:
        spec = _spec(task)
        fields = flow.read_fields(engine, (r.run_id for r in items), f"bt:{task.name}", "in", "md")
        through: list[Ready] = []
        groups: dict[str, list[tuple[Ready, int]]] = defaultdict(list)
        program = group_program(spec)
        for r, (taken, raw_in, raw_md) in zip(items, fields, strict=True):
            if taken is not None and taken.rpartition("|")[2] == str(r.attempt):
                through.append(r)  # a leader, dispatched again (watchdog, lost worker)
                continue
            try:
                group = _group(program, spec, raw_in, raw_md)
            except ValueError as exc:
                flow.fail_held(engine, task, r.run_id, NonRetryableException(str(exc)))
                continue
            groups[group].append((r, len(raw_in or "")))
        for group, members in groups.items():
            flush(engine, task, group, members)
        return through


def _group(program: Any, spec: BatchTaskConfig, raw_in: str | None, raw_md: str | None) -> str:
    if program is None:
        return ""
    try:
        value = program.evaluate(flow.cel_variables(raw_in, raw_md), what="batch_group_key")
    except CelEvaluationError as exc:
        raise ValueError(f"failed to parse batch group key expression: {exc}") from exc
    if not isinstance(value, str):
        raise ValueError(
            f"failed to parse batch group key expression {spec.batch_group_key!r}: it gave "
            f"{value!r}, not a string"
        )
    return value


def flush(
    engine: Engine,
    task: Task[Any, Any],
    group: str,
    members: list[tuple[Ready, int]] | None = None,
    force: bool = False,
) -> int:
    """Park ``members`` (ready runs, input bytes) in the group's buffer, then make a batch
    when it is full (or, with ``force``, of whatever waits), and again while a full
    buffer is left; dispatch each leader past the gate. Returns the batches made."""
    keys, workflow, spec = engine.keys, task.workflow.name, _spec(task)
    parked: list[Any] = []
    for r, size in members or []:
        parked += [r.run_id, r.attempt, size]
    made = 0
    while True:
        batch_id = str(uuid.uuid4())
        now = engine.now()
        res = engine.store.script(
            "batch_flush",
            [
                keys.batch_buffer(workflow, task.name, group),
                keys.batch_buffer_bytes(workflow, task.name, group),
                keys.timers,
                keys.batch(batch_id),
                keys.batch_running(workflow, task.name, group),
            ],
            [
                keys.run_prefix,
                task.name,
                now,
                flow.watch_at(now),
                spec.batch_max_size,
                MAX_BATCH_BYTES,
                _interval(spec),
                _timer(workflow, task.name, group),
                engine.config.retention_seconds,
                batch_id,
                1 if force else 0,
                _max_runs(spec, group),
                task.execution_timeout_s + LOST_AFTER,
                *parked,
            ],
        )
        parked, force = [], False
        if int(res[0]):
            made += 1
            flow.dispatch_after(
                engine, GATE, workflow, str(res[1]), [task.name, res[2], res[3]], res[4]
            )
        if not int(res[5]):
            return made


def flush_due(engine: Engine, entry: BatchFlush, now: float) -> Outcome:
    """A buffer's interval has passed: flush it. ``batch_flush`` removes or re-arms the
    timer in the step that empties or leaves the buffer; should it leave the timer alone
    (a flush held back), the entry is due again a claim lease later, as it was before.
    A process that does not declare the task leaves it to one that does, the same way."""
    task = engine.registry.tasks.get(engine.celery_name(entry.workflow, entry.task))
    if task is not None and getattr(task, "batch", None) is not None:
        flush(engine, task, entry.group, force=True)
    return retry_later(now)


GATE = BatchGate()


# --- the leader's execution -----------------------------------------------------------------
@dataclass
class Member:
    run_id: str
    attempt: str
    task_run_id: str = ""
    input: Any = None
    claim: str = ""


async def run_batch(
    handler: Callable[..., Any], spec: BatchTaskConfig, input: Any, ctx: Context
) -> Any:
    """The leader's execution: the handler once for every member still waiting, then each
    member's outcome recorded; returns the leader's own output."""
    registry = ctx._registry
    assert registry is not None
    engine = registry.engine()
    task = ctx._task
    batch_id, others = await asyncio.to_thread(_members, engine, task, ctx.workflow_run_id)
    # the members run with the leader: RUNNING under claims whose leases are kept here
    others = await asyncio.to_thread(_claim, engine, task, batch_id, others)
    keeper = asyncio.create_task(_keep_leases(engine, task, others))
    inputs = {ctx.task_run_id: input, **{m.task_run_id: m.input for m in others}}
    try:
        try:
            output = await call(handler, inputs, ctx)
        except BaseException as exc:
            if isinstance(exc, Exception):
                await asyncio.to_thread(_fail_all, engine, task, others, exc)
            else:  # cancelled (the leader was, or timed out): so is the batch
                await asyncio.to_thread(_cancel_all, engine, task, others)
            raise
        if ctx.is_cancelled:  # the handler cancelled the batch (ctx.cancel())
            await asyncio.to_thread(_cancel_all, engine, task, others)
            return None
        await asyncio.to_thread(_complete_all, engine, task, spec, others, output, ctx)
        return member_output(spec, output, ctx.task_run_id)
    finally:
        keeper.cancel()
        if batch_id and spec.batch_group_key is not None:
            await asyncio.to_thread(_ended, engine, task, ctx.workflow_run_id, batch_id)


async def _keep_leases(engine: Engine, task: Task[Any, Any], members: list[Member]) -> None:
    """Renew the members' leases while the batch runs (as the watchdog does for the
    leader's); a worker lost meanwhile stops renewing, and they are queued again."""
    if not members:
        return
    lease = engine.config.lease_seconds
    while True:
        await asyncio.sleep(lease / 3)
        until = engine.now() + lease
        entries = {f"{m.claim}|{m.run_id}|{task.name}": until for m in members}
        try:
            await asyncio.to_thread(engine.store.redis.zadd, engine.keys.leases, entries, xx=True)
        except Exception:
            log.warning("hatchet_celery: batch leases not renewed", exc_info=True)


def _ended(engine: Engine, task: Task[Any, Any], run_id: str, batch_id: str) -> None:
    """A batch of a keyed group ended: it no longer counts against the group's
    ``batch_group_max_runs``, and a full buffer held back for it may go now."""
    spec = _spec(task)
    row = flow.read_fields(engine, [run_id], "in", "md")[0]
    raw_in, raw_md = row[0], row[1]
    try:
        group = _group(group_program(spec), spec, raw_in, raw_md)
    except ValueError:
        return
    workflow = task.workflow.name
    engine.store.redis.zrem(engine.keys.batch_running(workflow, task.name, group), batch_id)
    flush(engine, task, group)


def _members(engine: Engine, task: Task[Any, Any], run_id: str) -> tuple[str, list[Member]]:
    """The batch of the leader ``run_id`` and its other members still waiting, with their
    inputs (a member whose input no longer parses fails alone)."""
    redis, keys = engine.store.redis, engine.keys
    taken = redis.hget(keys.run(run_id), f"bt:{task.name}")
    if not taken:
        return "", []
    batch_id = str(taken).rpartition("|")[0]
    members = []
    for entry in redis.lrange(keys.batch(batch_id), 0, -1):
        member_run, _, attempt = str(entry).rpartition("|")
        if member_run != run_id:
            members.append(Member(member_run, attempt))
    rows = flow.read_fields(
        engine,
        (m.run_id for m in members),
        f"s:{task.name}",
        f"bt:{task.name}",
        f"i:{task.name}",
        "in",
    )
    waiting = []
    for m, (status, bt, task_run_id, raw_in) in zip(members, rows, strict=True):
        if status != WAIT_BATCH or bt != f"{batch_id}|{m.attempt}":
            continue
        m.task_run_id = task_run_id or ""
        try:
            m.input = task.workflow._parse_input(json.loads(raw_in) if raw_in else {})
        except Exception as exc:
            flow.fail_held(engine, task, m.run_id, NonRetryableException(str(exc)))
            continue
        waiting.append(m)
    return batch_id, waiting


def _claim(
    engine: Engine, task: Task[Any, Any], batch_id: str, members: list[Member]
) -> list[Member]:
    """The members still waiting for this batch, now RUNNING under their claims (one
    cancelled meanwhile is left out)."""
    if not members:
        return []
    now = engine.now()
    args: list[Any] = [
        engine.keys.run_prefix,
        task.name,
        batch_id,
        now,
        now + engine.config.lease_seconds,
        PROCESS.worker_id,
    ]
    for m in members:
        args += [m.run_id, m.attempt]
    claims = engine.store.script("batch_claim", [engine.keys.leases], args)
    for m, claim in zip(members, claims, strict=True):
        m.claim = str(claim)
    return [m for m in members if m.claim]


def _complete_all(
    engine: Engine,
    task: Task[Any, Any],
    spec: BatchTaskConfig,
    members: list[Member],
    output: Any,
    ctx: Context,
) -> None:
    for m in members:
        try:
            payload = serialize_output(task, member_output(spec, output, m.task_run_id))
        except Exception as exc:
            record_failure(engine, task, m.run_id, m.claim, int(m.attempt), m.task_run_id, exc)
            continue
        record_success(
            engine, task, m.run_id, m.claim, m.task_run_id, payload, priority=ctx.priority
        )


def _fail_all(engine: Engine, task: Task[Any, Any], members: list[Member], exc: Exception) -> None:
    for m in members:
        record_failure(engine, task, m.run_id, m.claim, int(m.attempt), m.task_run_id, exc)


def _cancel_all(engine: Engine, task: Task[Any, Any], members: list[Member]) -> None:
    for m in members:
        cancellation.cancel_task(engine, m.run_id, task.name)


__all__ = ["GATE", "WAIT_BATCH", "BatchGate", "flush", "run_batch"]
