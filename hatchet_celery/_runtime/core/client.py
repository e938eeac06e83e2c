"""Client side of runs: create them, publish their roots, wait.

Creating N runs is one ``create_run`` script call per ``CREATE_BATCH`` runs, each batch's
roots published as soon as it exists (workers start while the rest are created), plus one
publish per root task; waiting uses the process's single pub/sub listener
(``waiter.py``), so thousands of refs cost neither a connection nor a polling loop each.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from hatchet_celery._protocol import RunStatus, TaskStatus
from hatchet_celery._runtime.core.engine import REDISPATCH_SECONDS
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.run_index import listing_keys
from hatchet_celery._runtime.core.state import RunState, parse_run
from hatchet_celery._runtime.core.task_run_ids import task_run_id_of
from hatchet_celery._runtime.core.trigger_target import TriggerTarget
from hatchet_celery.context import current_context
from hatchet_celery.exceptions import (
    BulkTriggerIdempotencyCollisionError,
    FailedTaskRunExceptionGroup,
    IdempotencyCollisionError,
    NonDeterminismError,
    RunCancelledError,
    RunNotFoundError,
    TaskRunError,
    WorkflowNotFoundError,
)
from hatchet_celery.opentelemetry import _hooks as tracing_hooks

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.clients.admin import WorkflowRunTriggerConfig
    from hatchet_celery.runnables.workflow import BaseWorkflow


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _spawn_mismatch(ctx: Any, workflow: str, existing: str, existing_wf: str) -> Exception:
    """A replayed task spawned another workflow at a spawn index bound to an earlier child."""
    return NonDeterminismError(
        task_external_id=ctx.task_run_id if ctx is not None else "",
        invocation_count=ctx.retry_count if ctx is not None else 0,
        message=(
            f"non-determinism detected: task {ctx.task_name if ctx else '?'!r} spawned "
            f"workflow {workflow!r} at a child index bound to run {existing} of workflow "
            f"{existing_wf!r} (spawns must happen in the same order on every execution)"
        ),
    )


# What dispatching a created run's roots needs: its id, (task, task run id) of each root,
# its priority and its parent task run's id.
_Created = tuple[str, list[tuple[str, str]], int, str | None]

# Runs created per ``create_run`` call: the timers, listing and task run indexes get one
# command per call, and one call of this many runs keeps Redis busy for a few ms at most.
# Each batch's roots are published before the next batch is created, so workers start
# on the first runs at once (2,000 runs created before any was published kept a W1
# worker idle for ~0.3 s).
CREATE_BATCH = 200


@dataclass
class _Settled:
    """What the batches of one trigger answer: the run ids (an existing run's for a
    deduplicated child), the held idempotency keys, a replay that spawned another
    workflow at a bound child index (existing run, its workflow)."""

    ids: list[str] = field(default_factory=list)
    collisions: list[IdempotencyCollisionError] = field(default_factory=list)
    mismatch: tuple[str, str] | None = None


def _watch(now: float, schedule_timeout: float) -> tuple[float, float]:
    deadline = now + schedule_timeout
    return min(now + REDISPATCH_SECONDS, deadline), deadline


class RegistryBound:
    """Serves one registry and reaches Redis through its engine, resolved per call, so an
    object made before the engine exists works once it does (the run client, and every
    feature client: ``hatchet_celery/features/_base.py``)."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    @property
    def _engine(self) -> Engine:
        return self._registry.engine()


class Client(RegistryBound):
    """Trigger runs, wait for them and read them: what workflows, refs and features call."""

    # --- trigger ---------------------------------------------------------------------------
    def trigger(
        self,
        workflow: BaseWorkflow[Any],
        items: list[WorkflowRunTriggerConfig],
        run_ids: list[str] | None = None,
        bulk: bool = False,
    ) -> list[str]:
        """Create one run per item and enqueue its root tasks; returns the run ids in order.

        ``run_ids`` (one per item) makes creation idempotent: a run id that exists already
        is returned as it is (used by scheduled runs, whose timer may fire twice).
        An item whose idempotency key is held creates no run: ``IdempotencyCollisionError``
        (one item, ``bulk`` false) or ``BulkTriggerIdempotencyCollisionError`` after the
        other items were created.
        """
        for check in self._engine.extensions.trigger_checks:
            check(self._engine, workflow, items)
        return self._create(
            TriggerTarget.of(workflow), items, defer=False, run_ids=run_ids, bulk=bulk
        )

    def trigger_by_name(
        self,
        workflow_name: str,
        items: list[WorkflowRunTriggerConfig],
        run_ids: list[str] | None = None,
        bulk: bool = False,
    ) -> list[str]:
        """Trigger a workflow this process may not have imported.

        With the declaration at hand this is ``trigger``. Otherwise the shape a worker
        registered in Redis is used, and the roots are dispatched by a worker's timer pump
        (a process without the code cannot apply the task gates itself).
        """
        name = self._registry.config.apply_namespace(workflow_name)
        local = self._registry.workflows.get(name)
        if local is not None:
            return self.trigger(local, items, run_ids, bulk)
        raw = self._engine.store.redis.hget(self._engine.keys.workflows, name)
        if raw is None:
            raise WorkflowNotFoundError(
                f"workflow {name!r} is not declared in this process and no worker has "
                "registered it in Redis (start a worker that serves it)"
            )
        target = TriggerTarget.from_json(name, json.loads(raw))
        return self._create(target, items, defer=True, run_ids=run_ids, bulk=bulk)

    def _create(
        self,
        target: TriggerTarget,
        items: list[WorkflowRunTriggerConfig],
        defer: bool,
        run_ids: list[str] | None = None,
        bulk: bool = False,
    ) -> list[str]:
        """Create the runs, then queue their roots (``defer``: a worker's pump does)."""
        # Tracing hook (hatchet_celery.opentelemetry): a no-op unless instrumented.
        with tracing_hooks.TRACING.trigger(target.name, items, bulk) as traced:
            items = traced.items
            ctx = current_context.get()
            ids = run_ids or [str(uuid.uuid4()) for _ in items]
            created, calls, watched = self._prepare(
                target, items, ids, defer, ctx, fresh=run_ids is None
            )
            settled = _Settled()
            for start in range(0, len(items), CREATE_BATCH):
                batch = slice(start, start + CREATE_BATCH)
                results = self._submit(calls[batch], ids[start:], watched)
                self._settle(
                    target, items[batch], created[batch], results, watched, defer, ctx, settled
                )
            if settled.mismatch is not None:
                raise _spawn_mismatch(ctx, target.name, *settled.mismatch)
            if settled.collisions:
                if len(items) == 1 and not bulk:
                    raise settled.collisions[0]
                raise BulkTriggerIdempotencyCollisionError(settled.ids, settled.collisions)
            traced.created(settled.ids)
            return settled.ids

    def _prepare(
        self,
        target: TriggerTarget,
        items: list[WorkflowRunTriggerConfig],
        ids: list[str],
        defer: bool,
        ctx: Any,
        fresh: bool,
    ) -> tuple[list[_Created], list[tuple[list[str], list[Any]]], bool]:
        """Check every item and build its ``create_run`` arguments before any run exists
        (a bad item creates nothing); what each run's roots need, the calls, and whether
        this process watches the ids (then waiting for them needs no status read:
        ``RunWaiter.expect``)."""
        engine = self._engine
        now = engine.now()
        created: list[_Created] = []
        calls: list[tuple[list[str], list[Any]]] = []
        waiter = engine._waiter
        watched = waiter is not None and waiter.expect(ids)
        try:
            for position, item in enumerate(items):
                call, entry = self._create_call(
                    target, item, ids[position], now, defer, ctx, fresh=fresh
                )
                calls.append(call)
                created.append(entry)
        except BaseException:
            if watched:
                waiter.forget(ids)
            raise
        return created, calls, watched

    def _submit(
        self, calls: list[tuple[list[str], list[Any]]], pending: list[str], watched: bool
    ) -> list[Any]:
        """Run one batch's ``create_run`` call; on failure stop watching ``pending`` (the
        ids of this batch and the ones after it, none of them created here)."""
        try:
            return self._create_batch(calls)
        except BaseException:
            waiter = self._engine._waiter
            if watched and waiter is not None:
                waiter.forget(pending)
            raise

    def _settle(
        self,
        target: TriggerTarget,
        items: list[WorkflowRunTriggerConfig],
        created: list[_Created],
        results: list[Any],
        watched: bool,
        defer: bool,
        ctx: Any,
        settled: _Settled,
    ) -> None:
        """Queue the roots of one batch's new runs and add what the batch answers to
        ``settled`` (the caller raises for held keys and spawn mismatches at the end)."""
        engine = self._engine
        waiter = engine._waiter
        ready: list[Ready] = []
        new_runs: list[tuple[str, Any]] = []
        for (run_id, roots, priority, parent_id), res, item in zip(
            created, results, items, strict=True
        ):
            if int(res[0]) != 1:  # 0: deduplicated child (the existing run answers)
                if watched:  # 2: idempotency key held by run res[1]: no run
                    waiter.forget([run_id])
                if int(res[0]) == 2:
                    settled.collisions.append(IdempotencyCollisionError(_text(res[1])))
                else:
                    settled.ids.append(res[1])
                    if len(res) > 2 and res[2] and _text(res[2]) != target.name:
                        settled.mismatch = (_text(res[1]), _text(res[2]))
                continue
            settled.ids.append(run_id)
            new_runs.append((run_id, item.options))
            # create_run read the workflow's pause as it queued the roots: when it is not
            # paused, the pause gate has nothing to check (one script call less per run)
            checked = ("pause",) if len(res) > 1 and int(res[1]) == 0 else ()
            for name, task_run_id in roots:
                ready.append(
                    Ready(
                        target.name,
                        name,
                        run_id,
                        task_run_id,
                        0,
                        parent_id,
                        priority,
                        checked=checked,
                    )
                )
        for listener in engine.extensions.runs_created:
            listener(engine, new_runs, ctx)
        if ready and not defer:
            engine.dispatch(ready)

    def _create_call(
        self,
        target: TriggerTarget,
        item: WorkflowRunTriggerConfig,
        run_id: str,
        now: float,
        defer: bool,
        ctx: Any,
        fresh: bool,
    ) -> tuple[tuple[list[str], list[Any]], _Created]:
        """KEYS and ARGV of one run of a ``create_run`` call, and what dispatching its roots
        needs. ``fresh``: the run id was generated here, so the script need not look it up."""
        keys = self._engine.keys
        opts = item.options
        metadata = dict(target.default_metadata)
        parent_run = parent_task = parent_task_run = dedupe = ""
        child_index = ""
        child_key = opts.child_key or ""
        if ctx is not None:
            metadata.update(ctx.additional_metadata)
            parent_run, parent_task = ctx.workflow_run_id, ctx.task_name
            parent_task_run = ctx.task_run_id
            index = ctx._next_child_index()
            child_index = str(index)
            dedupe = f"k:{parent_task}:" + (f"key:{child_key}" if child_key else f"i:{index}")
        elif opts.parent_id:
            parent_run = opts.parent_id
            parent_task_run = opts.parent_step_run_id or ""
        metadata.update(opts.additional_metadata or {})
        priority = opts.priority or target.default_priority
        roots = []
        idem_key = keys.run(run_id)  # the run hash stands in when there is no key
        idem = target.idempotency
        if idem is not None:
            key = idem.key(target.name, json.loads(item.input or "{}"), metadata)
            idem_key = keys.idempotency(key)
        args: list[Any] = [
            run_id,
            target.name,
            item.input or "{}",
            json.dumps(metadata),
            priority,
            now,
            target.ntasks,
            target.on_failure,
            parent_run,
            parent_task,
            dedupe,
            parent_task_run,
            child_index,
            child_key,
            1 if defer else 0,
            idem.method if idem else "",
            idem.ttl_ms if idem else 0,
            keys.run_prefix,
            1 if fresh else 0,
            len(target.roots),
        ]
        for name, schedule_timeout in target.roots:
            task_run_id = task_run_id_of(run_id, name)
            watch_at, deadline = _watch(now, schedule_timeout)
            args += [name, task_run_id, watch_at, deadline]
            roots.append((name, task_run_id))
        for name in target.others:
            args += [name, task_run_id_of(run_id, name)]
        parent_key = keys.run(parent_run) if dedupe else keys.run(run_id)
        run_keys = [keys.run(run_id), parent_key, idem_key]
        run_keys += listing_keys(keys, target.name, metadata, parent_run, parent_task_run)
        return (run_keys, args), (run_id, roots, priority, parent_task_run or None)

    def _create_batch(self, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
        """Up to ``CREATE_BATCH`` runs created by one ``create_run`` call (the keys they
        share are written once per call) in one round trip: a direct call, not a pipeline
        (a pipeline holding a script costs an extra SCRIPT EXISTS round trip)."""
        keys = self._engine.keys
        batch_keys = [
            keys.runs,
            keys.timers,
            keys.status_index,
            keys.task_runs,
            keys.index_registry,
            keys.paused,
        ]
        batch_args: list[Any] = [len(calls)]
        for run_keys, args in calls:
            batch_keys += run_keys
            batch_args += [len(run_keys), len(args), *args]
        return list(self._engine.store.script("create_run", batch_keys, batch_args))

    async def aio_trigger(
        self,
        workflow: BaseWorkflow[Any],
        items: list[WorkflowRunTriggerConfig],
        bulk: bool = False,
    ) -> list[str]:
        return await asyncio.to_thread(self.trigger, workflow, items, None, bulk)

    # --- state --------------------------------------------------------------------------------
    def fetch(self, run_id: str) -> RunState | None:
        engine = self._engine
        fields = engine.store.redis.hgetall(engine.keys.run(run_id))
        return parse_run(run_id, cast(dict[str, str], fields))

    def fetch_many(self, run_ids: list[str]) -> list[RunState | None]:
        engine = self._engine
        pipe = engine.store.redis.pipeline(transaction=False)
        for run_id in run_ids:
            pipe.hgetall(engine.keys.run(run_id))
        return [parse_run(r, h) for r, h in zip(run_ids, pipe.execute(), strict=True)]

    def task_errors(self, run_id: str) -> dict[str, TaskRunError]:
        state = self.fetch(run_id)
        if state is None:
            return {}
        return {
            name: t.error
            for name, t in state.tasks.items()
            if t.status == TaskStatus.FAILED and t.error
        }

    def append_log(self, task_run_id: str, line: dict[str, Any]) -> None:
        engine = self._engine
        key = engine.keys.logs(task_run_id)
        pipe = engine.store.redis.pipeline(transaction=False)
        pipe.rpush(key, json.dumps(line))
        pipe.expire(key, max(engine.config.retention_seconds, 60))
        pipe.execute()

    # --- results ------------------------------------------------------------------------------
    @staticmethod
    def outcome(run_id: str, state: RunState | None, include_empty: bool, strict: bool) -> Any:
        """Result dict of a finished run, or the exception it stands for."""
        if state is None:
            return RunNotFoundError(f"Workflow run {run_id} not found.")
        if state.status == RunStatus.FAILED:
            return FailedTaskRunExceptionGroup(
                f"Workflow run {run_id} failed.", state.failed_errors()
            )
        if state.status == RunStatus.CANCELLED and strict:
            return RunCancelledError(f"Workflow run {run_id} was cancelled.")
        return {
            name: t.output
            for name, t in state.tasks.items()
            if t.status in (TaskStatus.COMPLETED, TaskStatus.SKIPPED)
            and (include_empty or t.has_output)
        }

    def result(self, run_id: str, include_empty: bool = True) -> dict[str, Any]:
        self._engine.waiter.wait(run_id).result()
        out = self.outcome(run_id, self.fetch(run_id), include_empty, strict=True)
        if isinstance(out, BaseException):
            raise out
        result: dict[str, Any] = out
        return result

    async def aio_result(self, run_id: str, include_empty: bool = False) -> dict[str, Any]:
        await asyncio.wrap_future(self._engine.waiter.wait(run_id))
        state = await asyncio.to_thread(self.fetch, run_id)
        out = self.outcome(run_id, state, include_empty, strict=False)
        if isinstance(out, BaseException):
            raise out
        result: dict[str, Any] = out
        return result

    def _collect(self, refs: list[Any], return_exceptions: bool, include_empty: bool) -> list[Any]:
        ids = [r.workflow_run_id for r in refs]
        states = self.fetch_many(ids)
        out: list[Any] = []
        for ref, run_id, state in zip(refs, ids, states, strict=True):
            value = self.outcome(run_id, state, include_empty, strict=include_empty)
            if not isinstance(value, BaseException) and hasattr(ref, "_standalone"):
                try:
                    value = ref._standalone._extract(value)
                except Exception as exc:  # an output that does not fit the annotation
                    value = exc
            if isinstance(value, BaseException) and not return_exceptions:
                raise value
            out.append(value)
        return out

    def results(self, refs: list[Any], return_exceptions: bool) -> list[Any]:
        waiter = self._engine.waiter
        for fut in waiter.wait_many([r.workflow_run_id for r in refs]):
            fut.result()
        return self._collect(refs, return_exceptions, include_empty=True)

    async def aio_results(self, refs: list[Any], return_exceptions: bool) -> list[Any]:
        futures = self._engine.waiter.wait_many([r.workflow_run_id for r in refs])
        await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        return await asyncio.to_thread(self._collect, refs, return_exceptions, False)
