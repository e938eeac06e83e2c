"""``mock_run`` / ``aio_mock_run``: run a task function with a fake context, no engine.

``Mockable`` gives ``Task`` and ``Standalone`` both methods from one parameter list; the
functions below run a task's function under a context built from those parameters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hatchet_celery._runtime.core import aio
from hatchet_celery._twins import takes
from hatchet_celery.context import Context, current_context
from hatchet_celery.durable import DurableContext

if TYPE_CHECKING:
    from hatchet_celery.runnables.task import Task

TWorkflowInput = TypeVar("TWorkflowInput")
R = TypeVar("R")


@dataclass(frozen=True)
class MockArgs(Generic[TWorkflowInput]):
    """The parameters of ``mock_run`` and ``aio_mock_run``."""

    input: TWorkflowInput | None = None
    additional_metadata: dict[str, Any] | None = None
    parent_outputs: dict[str, Any] | None = None
    retry_count: int = 0
    lifespan: Any = None
    dependencies: dict[str, Any] | None = None


class Mockable(Generic[TWorkflowInput, R]):
    """``mock_run`` and ``aio_mock_run`` of a runnable; it says how to run ``_mock``."""

    def _mock(self, args: MockArgs[Any]) -> R:
        raise NotImplementedError

    async def _aio_mock(self, args: MockArgs[Any]) -> R:
        raise NotImplementedError

    @takes(MockArgs[TWorkflowInput])
    def mock_run(self, args: MockArgs[TWorkflowInput]) -> R:
        """Run the task's function here, with a fake context (no engine, no worker)."""
        return self._mock(args)

    @takes(MockArgs[TWorkflowInput])
    async def aio_mock_run(self, args: MockArgs[TWorkflowInput]) -> R:
        """Run the (async) task's function here, with a fake context."""
        return await self._aio_mock(args)


@contextmanager
def _mocked(task: Task[Any, Any], args: MockArgs[Any]) -> Iterator[Context]:
    """The fake context of one mock run, current while the function runs."""
    input = args.input
    raw = task.workflow._dump_input(input) if input is not None else {}
    parsed = input if input is not None else task.workflow._parse_input({})
    cls = DurableContext if task.is_durable else Context
    ctx = cls(
        task=task,
        registry=None,
        workflow_run_id=str(uuid.uuid4()),
        task_run_id=str(uuid.uuid4()),
        input=parsed,
        raw_input=raw,
        additional_metadata=dict(args.additional_metadata or {}),
        retry_count=args.retry_count,
        priority=None,
        parent_outputs=dict(args.parent_outputs or {}),
        lifespan=args.lifespan,
        execution_timeout=task.execution_timeout_s,
    )
    token = current_context.set(ctx)
    try:
        yield ctx
    finally:
        current_context.reset(token)


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


def mock_run(task: Task[Any, Any], args: MockArgs[Any]) -> Any:
    with _mocked(task, args) as ctx:
        if not task.dependencies:
            return task.fn(ctx._input, ctx)
        # async dependencies of a sync task: on the process loop (a leaf of _runtime)
        stack = AsyncExitStack()
        deps = aio.run(_deps(task, ctx._input, ctx, args.dependencies, stack))
        try:
            return task.fn(ctx._input, ctx, **deps)
        finally:
            aio.run(stack.aclose())


async def aio_mock_run(task: Task[Any, Any], args: MockArgs[Any]) -> Any:
    with _mocked(task, args) as ctx:
        async with AsyncExitStack() as stack:
            deps = await _deps(task, ctx._input, ctx, args.dependencies, stack)
            return await task.fn(ctx._input, ctx, **deps)
