"""The body of every Hatchet Celery task: claim, run the user function, record the outcome.

Per task run that succeeds: one ``claim`` script, the user function, one ``complete``
script (which also releases the children whose parents are all done), and one publish
per released child. A duplicate or stale message ends at the claim; a late outcome of an
attempt that timed out or lost its lease is rejected by the claim token.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_jsonable_python

from hatchet_celery._runtime import aio
from hatchet_celery._runtime.engine import REDISPATCH_SECONDS
from hatchet_celery._runtime.hooks import Ready
from hatchet_celery._runtime.process import PROCESS
from hatchet_celery._runtime.slots import SLOTS
from hatchet_celery._runtime.state import TERMINAL
from hatchet_celery._runtime.task_run_ids import task_run_id_of
from hatchet_celery._runtime.watchdog import InFlight, watchdog
from hatchet_celery.context import Context, current_context
from hatchet_celery.exceptions import (
    IllegalTaskOutputError,
    NonRetryableException,
    TaskRunError,
    TaskTimeoutError,
)
from hatchet_celery.opentelemetry import _hooks as tracing_hooks
from hatchet_celery.serde import HATCHET_PYDANTIC_SENTINEL

if TYPE_CHECKING:
    from hatchet_celery._runtime.engine import Engine
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)


class Suspended(BaseException):
    """Raised inside a durable task that waits: the attempt ends without an outcome.

    ``commit`` (set by the durable-waits module) moves the task run out of RUNNING
    atomically, releasing its lease, so no slot is held while it waits.
    """

    def __init__(self, commit: Callable[[InFlight], None] | None = None) -> None:
        super().__init__("suspended")
        self.commit = commit


def serialize_output(task: Task[Any, Any], output: Any) -> str:
    """JSON text of a task's output; ``""`` for no output. Other types fail the task."""
    if output is None:
        return ""
    if isinstance(output, BaseModel):
        data: Any = output.model_dump(mode="json", context=HATCHET_PYDANTIC_SENTINEL)
    elif dataclasses.is_dataclass(output) and not isinstance(output, type):
        adapter = TypeAdapter(type(output))
        data = adapter.dump_python(output, mode="json", context=HATCHET_PYDANTIC_SENTINEL)
    elif isinstance(output, dict):
        data = to_jsonable_python(output)
    else:
        raise IllegalTaskOutputError(
            f"task {task.name!r} of workflow {task.workflow.name!r} returned a "
            f"{type(output).__name__}; a task must return a dict, a pydantic model, "
            "a dataclass or None"
        )
    if not data:
        return ""
    text = json.dumps(data)
    if "\\u0000" in text:
        raise IllegalTaskOutputError(
            f"task {task.name!r} returned output containing a NUL character (\\u0000)"
        )
    return text


def _watch(now: float, schedule_timeout: float) -> tuple[float, float]:
    deadline = now + schedule_timeout
    return min(now + REDISPATCH_SECONDS, deadline), deadline


def on_failure_args(run_id: str, task: Task[Any, Any], now: float) -> list[Any]:
    shape = task.workflow.compiled()
    if not shape.on_failure:
        return ["", "", 0, 0]
    of_task = task.workflow.on_failure
    watch_at, deadline = _watch(now, of_task.schedule_timeout_s if of_task else 300.0)
    return [shape.on_failure, task_run_id_of(run_id, shape.on_failure), watch_at, deadline]


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
    now = time.time()
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
            expected="QUEUED",
            retry_allowed=False,
        )
        return
    claim = str(res[1])
    try:
        ctx = build_context(registry, task, run_id, attempt, res, parents)
    except Exception as exc:  # an input the validator refuses (an event payload, say)
        # Fail the task run for good: left RUNNING, its lease would expire and the same
        # input be claimed, and refused, forever.
        bad = NonRetryableException(
            f"task {task.name!r} of workflow {task.workflow.name!r} cannot start: its "
            f"input does not fit {getattr(task.workflow.input_validator, '__name__', 'it')}"
            f": {exc}"
        )
        record_failure(engine, task, run_id, claim, attempt, str(res[5] or ""), bad)
        return
    inflight = InFlight(engine, task, ctx, run_id, claim, attempt)
    watchdog().track(inflight)
    try:
        SLOTS.acquire(task, ctx)  # waits only for slot_cost > 1 (_runtime/slots.py)
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
        record_success(engine, task, run_id, claim, ctx.task_run_id, payload, priority=ctx.priority)
    finally:
        watchdog().untrack(inflight)
        SLOTS.release(ctx)


def build_context(
    registry: Registry,
    task: Task[Any, Any],
    run_id: str,
    attempt: int,
    res: list[Any],
    parents: tuple[str, ...],
) -> Context:
    raw_input = json.loads(res[2]) if res[2] else {}
    parent_outputs: dict[str, Any] = {}
    for i, name in enumerate(parents):
        out, status = res[11 + 2 * i], res[12 + 2 * i]
        if status == "SKIPPED":
            parent_outputs[name] = {"skipped": True}
        elif out:
            parent_outputs[name] = json.loads(out)
    from hatchet_celery.durable import DurableContext

    cls = DurableContext if task.is_durable else Context
    return cls(
        task=task,
        registry=registry,
        workflow_run_id=run_id,
        task_run_id=res[5],
        input=task.workflow._parse_input(raw_input),
        raw_input=raw_input,
        additional_metadata=json.loads(res[3]) if res[3] else {},
        retry_count=int(attempt),
        priority=int(res[4]) if res[4] else None,
        parent_outputs=parent_outputs,
        parent_workflow_run_id=res[6] or None,
        parent_task_run_id=res[7] or None,
        child_index=int(res[8]) if res[8] else None,
        child_key=res[9] or None,
        worker_id=PROCESS.worker_id,
        worker_labels=PROCESS.labels,
        lifespan=PROCESS.lifespan,
        execution_timeout=task.execution_timeout_s,
    )


def invoke(task: Task[Any, Any], ctx: Context, inflight: InFlight) -> Any:
    """Run the user function: sync in this pool thread, async on the process loop."""
    if task.is_async_function and task.is_durable:  # waits suspend, the slot is freed
        from hatchet_celery._runtime.durable_waits import run_durable

        return run_durable(task, ctx, inflight)
    if task.is_async_function:
        future = aio.submit(_run_async(task, ctx))
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


async def _run_async(task: Task[Any, Any], ctx: Context) -> Any:
    current_context.set(ctx)
    if not task.dependencies:
        return await task.fn(ctx._input, ctx)
    async with AsyncExitStack() as stack:
        deps = await task.resolve_dependencies(ctx._input, ctx, stack)
        return await task.fn(ctx._input, ctx, **deps)


def record_success(
    engine: Engine,
    task: Task[Any, Any],
    run_id: str,
    claim: str,
    task_run_id: str,
    payload: str,
    status: str = "COMPLETED",
    priority: int | None = None,
) -> None:
    keys = engine.keys
    now = time.time()
    shape = task.workflow.compiled()
    children = shape.children.get(task.name, ())
    args: list[Any] = [
        run_id,
        task.name,
        claim,
        payload,
        now,
        engine.config.retention_seconds,
        status,
        *on_failure_args(run_id, task, now),
        len(children),
    ]
    by_name = task.workflow.task_map()
    for child, nparents in children:
        watch_at, deadline = _watch(now, by_name[child].schedule_timeout_s)
        args += [child, nparents, task_run_id_of(run_id, child), watch_at, deadline]
    res = engine.store.script(
        "complete",
        [
            keys.run(run_id),
            keys.leases,
            keys.timers,
            keys.done_channel,
            keys.status_index,
        ],
        args,
    )
    if int(res[0]) != 1:
        log.info("hatchet_celery: outcome of %s in run %s was stale; dropped", task.name, run_id)
        return
    release(engine, task, run_id, task_run_id, res[2:], priority)
    engine.task_finished(task, run_id, status)
    if res[1] in TERMINAL:
        engine.run_finished(task.workflow.name, run_id, res[1])


def release(
    engine: Engine,
    task: Task[Any, Any],
    run_id: str,
    parent_id: str,
    ready: list[Any],
    priority: int | None = None,
) -> None:
    """Dispatch the task runs a transition queued (triples: name, task run id, attempt)."""
    if not ready:
        return
    wf = task.workflow.name
    engine.dispatch(
        Ready(wf, ready[i], run_id, ready[i + 1], int(ready[i + 2]), parent_id or None, priority)
        for i in range(0, len(ready), 3)
    )


def error_json(task: Task[Any, Any], exc: BaseException, task_run_id: str) -> str:
    err = TaskRunError.from_exception(exc, task_run_id)
    err.task_name = task.name
    return json.dumps(err.to_dict())


def record_failure(
    engine: Engine,
    task: Task[Any, Any],
    run_id: str,
    claim: str,
    attempt: int,
    task_run_id: str,
    exc: BaseException,
    *,
    expected: str = "RUNNING",
    retry_allowed: bool = True,
    final_status: str = "FAILED",
) -> None:
    keys = engine.keys
    now = time.time()
    retry = (
        retry_allowed and not isinstance(exc, NonRetryableException) and int(attempt) < task.retries
    )
    retry_at = now + task.backoff_seconds(int(attempt) + 1) if retry else now
    shape = task.workflow.compiled()
    args: list[Any] = [
        run_id,
        task.name,
        claim,
        error_json(task, exc, task_run_id),
        now,
        engine.config.retention_seconds,
        1 if retry else 0,
        retry_at,
        expected,
        final_status,
        *on_failure_args(run_id, task, now),
        task.schedule_timeout_s,
        *shape.descendants.get(task.name, ()),
    ]
    res = engine.store.script(
        "fail",
        [
            keys.run(run_id),
            keys.leases,
            keys.timers,
            keys.done_channel,
            keys.status_index,
        ],
        args,
    )
    if int(res[0]) == 2:
        if res[2]:
            release(engine, task, run_id, task_run_id, [res[2], "", res[3] if len(res) > 3 else 0])
        engine.task_finished(task, run_id, final_status)
        if res[1] in TERMINAL:
            engine.run_finished(task.workflow.name, run_id, res[1])
    if int(res[0]) != -1:
        level = logging.INFO if retry else logging.WARNING
        log.log(
            level,
            "hatchet_celery: %s of run %s failed (attempt %s): %s",
            task.name,
            run_id,
            int(attempt) + 1,
            exc,
        )
