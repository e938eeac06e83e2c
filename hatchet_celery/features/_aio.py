"""``aio_`` twins of the feature clients' methods, generated from the sync ones.

Every feature method is written once, synchronously (Redis round trips are short), and
its coroutine twin runs it in a worker thread, so the event loop is never blocked::

    class LogsClient:
        def list(self, task_run_id: str, limit: int = 1000) -> V1LogLineList: ...

        aio_list = aio_twin(list)
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")


def aio_twin(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """The coroutine twin of ``method``: same parameters, run in a thread."""

    async def twin(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self, *args, **kwargs)

    functools.update_wrapper(twin, method, assigned=("__module__", "__annotations__"))
    twin.__name__ = f"aio_{method.__name__}"
    twin.__qualname__ = method.__qualname__.rsplit(".", 1)[0] + f".aio_{method.__name__}"
    twin.__doc__ = f"Async twin of ``{method.__name__}`` (same parameters and result)."
    return twin


__all__ = ["aio_twin"]
