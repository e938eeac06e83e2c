"""Methods written once and offered twice: a sync method and its ``aio_`` twin, or two
public methods that take the same parameters.

Hatchet's API has many pairs (``run`` / ``aio_run``, ``mock_run`` / ``aio_mock_run``,
``on_failure_task`` / ``on_success_task``...). Copying a long signature into each member
of a pair lets the copies drift, so each pair is built from one place:

``aio_twin(method)``
    The coroutine twin of a sync method: same parameters, run in a worker thread, so the
    event loop is never blocked (Redis round trips are short)::

        def list(self, limit: int = 100) -> Rows: ...

        aio_list = aio_twin(list)

``parameters(prepare)``
    For twins whose bodies differ (the async one awaits, or the two act differently):
    ``prepare`` is written once with the public parameters, checks them and returns what
    the bodies need; each decorated body takes that one value::

        def _trigger_args(self, input: In, priority: int | None = None) -> Item: ...

        @parameters(_trigger_args)
        def run_no_wait(self, item: Item) -> Ref:
            \"\"\"Trigger a run.\"\"\"

        @parameters(_trigger_args)
        async def aio_run_no_wait(self, item: Item) -> Ref: ...

    Both methods are typed with ``prepare``'s parameters (names, kinds, defaults), so mypy
    checks callers precisely, and ``inspect.signature`` shows them too; the name and the
    docstring are the decorated body's.

``takes(Options)``
    ``parameters`` where the parameter list is a dataclass's fields: the body receives
    the dataclass instance.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import typing
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")
X = TypeVar("X")


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


def parameters(
    prepare: Callable[Concatenate[S, P], X],
) -> Callable[[Callable[[S, X], R]], Callable[Concatenate[S, P], R]]:
    """Give the decorated method ``prepare``'s parameters; its body receives what
    ``prepare`` returns. Works for ``def`` and ``async def`` bodies alike."""

    def decorate(body: Callable[[S, X], R]) -> Callable[Concatenate[S, P], R]:
        if inspect.iscoroutinefunction(body):

            async def aio_method(self: S, /, *args: P.args, **kwargs: P.kwargs) -> Any:
                return await body(self, prepare(self, *args, **kwargs))

            method = cast(Callable[Concatenate[S, P], R], aio_method)
        else:

            def method(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
                return body(self, prepare(self, *args, **kwargs))

        functools.update_wrapper(method, body)
        returns = inspect.signature(body).return_annotation
        method.__signature__ = inspect.signature(prepare).replace(  # type: ignore[attr-defined]
            return_annotation=returns
        )
        return method

    return decorate


def takes(
    options: Callable[P, X],
) -> Callable[[Callable[[S, X], R]], Callable[Concatenate[S, P], R]]:
    """``parameters`` for a dataclass (or its subscripted generic): the decorated method
    takes the dataclass's constructor parameters, and its body receives the instance the
    call's arguments build. For long option lists written once as dataclass fields
    (``runnables/options.py``, ``features/_query.py``)."""
    plain = cast(Callable[P, X], typing.get_origin(options) or options)  # not the alias

    def prepare(self: S, /, *args: P.args, **kwargs: P.kwargs) -> X:
        return plain(*args, **kwargs)

    fields = inspect.signature(plain).parameters.values()
    itself = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    prepare.__signature__ = inspect.Signature([itself, *fields])  # type: ignore[attr-defined]
    return parameters(prepare)


def arguments(local_names: dict[str, Any]) -> dict[str, Any]:
    """The arguments a method was called with, by name: its ``locals()`` taken as its first
    statement, without ``self``. For public methods whose signatures must be written out
    (they differ by a parameter) but whose bodies are one shared builder."""
    return {name: value for name, value in local_names.items() if name != "self"}


__all__ = ["aio_twin", "arguments", "parameters", "takes"]
