"""The body of every Hatchet Celery task: claim, run the user function, record the outcome.

Per task run that succeeds: one ``claim`` script, the user function, one ``complete``
script (which also releases the children whose parents are all done), and one publish
per released child. A duplicate or stale message ends at the claim; a late outcome of an
attempt that timed out or lost its lease is rejected by the claim token.
"""

from __future__ import annotations

import json
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatchet_celery._protocol import TaskStatus
from hatchet_celery._runtime.core import aio
from hatchet_celery._runtime.core.calls import Suspended, run_async
from hatchet_celery._runtime.core.hooks import RunRoute
from hatchet_celery._runtime.core.process import PROCESS
from hatchet_celery._runtime.core.slots import SLOTS
from hatchet_celery._runtime.core.transitions import (
    record_failure,
    record_success,
    serialize_output,
)
from hatchet_celery._runtime.core.watchdog import InFlight, watchdog
from hatchet_celery._runtime.waits.durable import run_durable
from hatchet_celery.context import Context, current_context
from hatchet_celery.durable import DurableContext
from hatchet_celery.exceptions import NonRetryableException, TaskTimeoutError
from hatchet_celery.opentelemetry import _hooks as tracing_hooks

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)


def execute(
    registry: Registry,
    task: Task[Any, Any],
    request: Any,
    run_id: str,
    task_name: str,
    attempt: int,
) -> None:
    engine = registry.engine()
    keys = engine.keys
    now = engine.now()
    parents = task.workflow.compiled().parents.get(task.name, ())
    res = engine.store.script(
        "claim",
        [keys.run(run_id), keys.leases, keys.timers, keys.status_index],
        [
            run_id,
            task.name,
            attempt,
            PROCESS.worker_id,
            now,
            now + engine.config.lease_seconds,
            *parents,
        ],
    )
    code = int(res[0])
    if code == 0:
        log.info("hatchet_celery: run %s of %s is gone; message dropped", run_id, task.celery_name)
        return
    if code == 2:
        log.debug(
            "hatchet_celery: %s of run %s is %s; duplicate dropped", task.name, run_id, res[1]
        )
        return
    if code == 3:
        record_failure(
            engine,
            task,
            run_id,
            str(res[1]),
            attempt,
            "",
            TaskTimeoutError(
                f"task {task.name!r} waited in the queue longer than its schedule_timeout "
                f"({task.schedule_timeout_s:g}s): SCHEDULING_TIMED_OUT"
            ),
            expected=TaskStatus.QUEUED,
            retry_allowed=False,
        )
        return
    claimed = Claimed.parse(res, parents)
    claim = claimed.claim
    try:
        ctx = build_context(registry, task, run_id, attempt, claimed, started_at=now)
    except Exception as exc:  # an input the validator refuses (an event payload, say)
        # Fail the task run for good: left RUNNING, its lease would expire and the same
        # input be claimed, and refused, forever.
        bad = NonRetryableException(
            f"task {task.name!r} of workflow {task.workflow.name!r} cannot start: its "
            f"input does not fit {getattr(task.workflow.input_validator, '__name__', 'it')}"
            f": {exc}"
        )
        record_failure(engine, task, run_id, claim, attempt, claimed.task_run_id, bad)
        return
    inflight = InFlight(engine, task, ctx, run_id, claim, attempt)
    watchdog().track(inflight)
    try:
        SLOTS.acquire(task, ctx)  # waits only for slot_cost > 1 (_runtime/core/slots.py)
        # Tracing hook (hatchet_celery.opentelemetry): a no-op unless instrumented.
        with tracing_hooks.TRACING.task_run(ctx):
            output = invoke(task, ctx, inflight)
            payload = serialize_output(task, output)
    except Suspended as suspended:
        if suspended.commit is not None and not inflight.timed_out:
            suspended.commit(inflight)
        return
    except BaseException as exc:
        if inflight.timed_out:
            return  # the watchdog recorded the timeout
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        ctx._forget_spawns()
        record_failure(engine, task, run_id, claim, attempt, ctx.task_run_id, exc)
    else:
        ctx._forget_spawns()
        record_success(
            engine,
            task,
            run_id,
            claim,
            ctx.task_run_id,
            payload,
            priority=ctx.priority,
            route=claimed.route,
        )
    finally:
        watchdog().untrack(inflight)
        SLOTS.release(ctx)


@dataclass(frozen=True)
class Claimed:
    """``claim.lua``'s answer when it took the task run, read by name (once, here)."""

    claim: str
    input: str
    metadata: str
    priority: int | None
    task_run_id: str
    parent_run_id: str | None
    parent_task_run_id: str | None
    child_index: int | None
    child_key: str | None
    route: RunRoute
    # (output JSON, status) of each parent, in the order the claim asked for them
    parents: dict[str, tuple[str, str]]

    @classmethod
    def parse(cls, res: list[Any], parents: tuple[str, ...]) -> Claimed:
        _, claim, input_, metadata, priority, task_run_id, par, ptr, ci, ck, _wf = res[:11]
        aff, sw = res[11], res[12]
        outcomes = res[13:]
        return cls(
            claim=str(claim),
            input=input_,
            metadata=metadata,
            priority=int(priority) if priority else None,
            task_run_id=str(task_run_id or ""),
            parent_run_id=par or None,
            parent_task_run_id=ptr or None,
            child_index=int(ci) if ci else None,
            child_key=ck or None,
            route=RunRoute(aff or None, sw or None),
            parents={
                name: (outcomes[2 * i], outcomes[2 * i + 1]) for i, name in enumerate(parents)
            },
        )


def build_context(
    registry: Registry,
    task: Task[Any, Any],
    run_id: str,
    attempt: int,
    claimed: Claimed,
    started_at: float,
) -> Context:
    raw_input = json.loads(claimed.input) if claimed.input else {}
    parent_outputs: dict[str, Any] = {}
    for name, (out, status) in claimed.parents.items():
        if status == TaskStatus.SKIPPED:
            parent_outputs[name] = {"skipped": True}
        elif out:
            parent_outputs[name] = json.loads(out)
    cls = DurableContext if task.is_durable else Context
    return cls(
        task=task,
        registry=registry,
        runtime=registry.task_runtime(),
        workflow_run_id=run_id,
        task_run_id=claimed.task_run_id,
        input=task.workflow._parse_input(raw_input),
        raw_input=raw_input,
        additional_metadata=json.loads(claimed.metadata) if claimed.metadata else {},
        retry_count=int(attempt),
        priority=claimed.priority,
        parent_outputs=parent_outputs,
        parent_workflow_run_id=claimed.parent_run_id,
        parent_task_run_id=claimed.parent_task_run_id,
        child_index=claimed.child_index,
        child_key=claimed.child_key,
        worker_id=PROCESS.worker_id,
        worker_labels=PROCESS.labels,
        lifespan=PROCESS.lifespan,
        execution_timeout=task.execution_timeout_s,
        started_at=started_at,
    )


def invoke(task: Task[Any, Any], ctx: Context, inflight: InFlight) -> Any:
    """Run the user function: sync in this pool thread, async on the process loop."""
    if task.is_async_function and task.is_durable:  # waits suspend, the slot is freed
        return run_durable(task, ctx, inflight)
    if task.is_async_function:
        future = aio.submit(run_async(task, ctx))
        inflight.future = future
        return future.result()
    token = current_context.set(ctx)
    try:
        if not task.dependencies:
            return task.fn(ctx._input, ctx)
        stack = AsyncExitStack()
        deps = aio.run(task.resolve_dependencies(ctx._input, ctx, stack))
        try:
            return task.fn(ctx._input, ctx, **deps)
        finally:
            aio.run(stack.aclose())
    finally:
        current_context.reset(token)
