"""The declaration side of batch tasks: the task function that stands for the handler.

``hatchet.batch_task`` / ``Workflow.batch_task`` register ``batch_function(handler)`` as
the task's function. Called by the executor with the leader's input and context, it
hands over to the runtime through the context (``TaskRuntime.run_batch``, which is
``_runtime/batch.run_batch``); under ``mock_run`` (no engine) it is a batch of one. Kept
apart from the runtime so declaring a batch task imports nothing of the engine.
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hatchet_celery._cel import CelProgram, compile_cel
from hatchet_celery.exceptions import NonRetryableException
from hatchet_celery.runnables.types import BatchTaskConfig

if TYPE_CHECKING:
    from hatchet_celery.context import Context


def group_program(spec: BatchTaskConfig) -> CelProgram | None:
    """The compiled ``batch_group_key`` (a bad expression fails at declaration)."""
    if spec.batch_group_key is None:
        return None
    return compile_cel(
        spec.batch_group_key,
        what="batch_group_key",
        variables=("input", "additional_metadata"),
    )


def batch_function(
    handler: Callable[..., Any], spec: BatchTaskConfig
) -> Callable[[Any, Context], Awaitable[Any]]:
    """The task function of a batch task: ``handler(tasks, ctx)`` run once per batch."""

    async def run_batch(input: Any, ctx: Context) -> Any:
        if ctx._runtime is None:  # mock_run: a batch of one
            output = await call(handler, {ctx.task_run_id: input}, ctx)
            return member_output(spec, output, ctx.task_run_id)
        return await ctx._runtime.run_batch(handler, spec, input, ctx)

    run_batch.__name__ = getattr(handler, "__name__", "batch")
    run_batch.__qualname__ = getattr(handler, "__qualname__", "batch")
    # what one member's result is parsed as: the handler's output, or its dict's values
    run_batch.__annotations__ = {"return": _member_type(handler, spec)}
    return run_batch


def _member_type(handler: Callable[..., Any], spec: BatchTaskConfig) -> Any:
    try:
        ret = typing.get_type_hints(handler).get("return", Any)
    except Exception:
        return Any
    if spec.broadcast_output or ret is None or ret is type(None):
        return ret
    if typing.get_origin(ret) is dict and len(typing.get_args(ret)) == 2:
        return typing.get_args(ret)[1]
    return Any


async def call(handler: Callable[..., Any], inputs: dict[str, Any], ctx: Context) -> Any:
    """The handler, awaited (a sync one runs in a thread, off the process loop)."""
    if inspect.iscoroutinefunction(handler):
        return await handler(inputs, ctx)
    return await asyncio.to_thread(handler, inputs, ctx)


def member_output(spec: BatchTaskConfig, output: Any, member: str) -> Any:
    """One member's output of the handler's result."""
    if spec.broadcast_output:
        return output
    if not isinstance(output, dict) or member not in output:
        raise NonRetryableException(
            f"batch task returned no output for member {member} (return a dict keyed by "
            "every BatchMemberId, or declare broadcast_output=True)"
        )
    return output[member]


__all__ = ["batch_function", "call", "group_program", "member_output"]
