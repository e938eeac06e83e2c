"""``mock_run`` / ``aio_mock_run``: run a task function with a fake context, no engine."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from hatchet_celery._runtime.core import aio
from hatchet_celery.context import Context, current_context
from hatchet_celery.durable import DurableContext

if TYPE_CHECKING:
    from hatchet_celery.runnables.task import Task


def _context(
    task: Task[Any, Any],
    input: Any,
    additional_metadata: dict[str, Any] | None,
    parent_outputs: dict[str, Any] | None,
    retry_count: int,
    lifespan: Any,
) -> Context:
    raw = task.workflow._dump_input(input) if input is not None else {}
    parsed = input if input is not None else task.workflow._parse_input({})
    cls = DurableContext if task.is_durable else Context
    return cls(
        task=task,
        registry=None,
        workflow_run_id=str(uuid.uuid4()),
        task_run_id=str(uuid.uuid4()),
        input=parsed,
        raw_input=raw,
        additional_metadata=dict(additional_metadata or {}),
        retry_count=retry_count,
        priority=None,
        parent_outputs=dict(parent_outputs or {}),
        lifespan=lifespan,
        execution_timeout=task.execution_timeout_s,
    )


async def _deps(
    task: Task[Any, Any],
    input: Any,
    ctx: Context,
    given: dict[str, Any] | None,
    stack: AsyncExitStack,
) -> dict[str, Any]:
    if given is not None:
        return {k: v for k, v in given.items() if k in task.dependencies}
    return await task.resolve_dependencies(input, ctx, stack)


def mock_run(
    task: Task[Any, Any],
    input: Any,
    additional_metadata: dict[str, Any] | None,
    parent_outputs: dict[str, Any] | None,
    retry_count: int,
    lifespan: Any,
    dependencies: dict[str, Any] | None,
) -> Any:
    ctx = _context(task, input, additional_metadata, parent_outputs, retry_count, lifespan)
    token = current_context.set(ctx)
    try:
        if not task.dependencies:
            return task.fn(ctx._input, ctx)
        # async dependencies of a sync task: on the process loop (a leaf of _runtime)
        stack = AsyncExitStack()
        deps = aio.run(_deps(task, ctx._input, ctx, dependencies, stack))
        try:
            return task.fn(ctx._input, ctx, **deps)
        finally:
            aio.run(stack.aclose())
    finally:
        current_context.reset(token)


async def aio_mock_run(
    task: Task[Any, Any],
    input: Any,
    additional_metadata: dict[str, Any] | None,
    parent_outputs: dict[str, Any] | None,
    retry_count: int,
    lifespan: Any,
    dependencies: dict[str, Any] | None,
) -> Any:
    ctx = _context(task, input, additional_metadata, parent_outputs, retry_count, lifespan)
    token = current_context.set(ctx)
    try:
        async with AsyncExitStack() as stack:
            deps = await _deps(task, ctx._input, ctx, dependencies, stack)
            return await task.fn(ctx._input, ctx, **deps)
    finally:
        current_context.reset(token)
