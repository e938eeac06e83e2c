"""The runtime's calls into tracing: a module-level ``TRACING`` object that does nothing.

The runtime calls ``TRACING`` at three places and nowhere else:

- ``Client._create`` (every run creation: ``run``, ``run_no_wait``, ``run_many``, their
  ``aio_`` twins, children spawned from a task, event-triggered and scheduled runs):
  ``with TRACING.trigger(workflow, items, bulk) as traced:`` creates ``traced.items`` (the
  items, with a ``traceparent`` added to their metadata when traced) and reports the run ids
  with ``traced.created(ids)``;
- ``executor.execute``: ``with TRACING.task_run(ctx):`` around the user function;
- ``EventClient.push`` / ``bulk_push``: ``with TRACING.push_events(events, bulk) as traced:``
  pushes ``traced.items``.

``HatchetInstrumentor.instrument()`` swaps in the OpenTelemetry implementation
(``_tracing.py``) with ``install``; ``uninstrument()`` puts this one back. Not instrumented,
a call costs one attribute read and one small object: nothing here imports opentelemetry.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from hatchet_celery._runtime.waits.events import EventIn
    from hatchet_celery.clients.admin import WorkflowRunTriggerConfig
    from hatchet_celery.context import Context

T = TypeVar("T")


class Traced(Protocol[T]):
    """What a traced trigger or push hands back: the items to use, and a place for ids."""

    items: list[T]

    def created(self, ids: Sequence[str]) -> None: ...


class Tracing(Protocol):
    def trigger(
        self, workflow: str, items: list[WorkflowRunTriggerConfig], bulk: bool
    ) -> AbstractContextManager[Traced[WorkflowRunTriggerConfig]]: ...

    def task_run(self, ctx: Context) -> AbstractContextManager[object]: ...

    def push_events(
        self, events: list[EventIn], bulk: bool
    ) -> AbstractContextManager[Traced[EventIn]]: ...


class _Untraced(Generic[T]):
    """The items as they are; its own context manager."""

    __slots__ = ("items",)

    def __init__(self, items: list[T]) -> None:
        self.items = items

    def __enter__(self) -> _Untraced[T]:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def created(self, ids: Sequence[str]) -> None:
        return None


_NOTHING: nullcontext[None] = nullcontext()  # reusable: nullcontext keeps no state


class NoTracing:
    """The default ``TRACING``: no spans, the items untouched."""

    def trigger(
        self, workflow: str, items: list[WorkflowRunTriggerConfig], bulk: bool
    ) -> _Untraced[WorkflowRunTriggerConfig]:
        return _Untraced(items)

    def task_run(self, ctx: Context) -> nullcontext[None]:
        return _NOTHING

    def push_events(self, events: list[EventIn], bulk: bool) -> _Untraced[EventIn]:
        return _Untraced(events)


NO_TRACING = NoTracing()
TRACING: Tracing = NO_TRACING


def install(tracing: Tracing | None) -> None:
    """Make ``tracing`` what the runtime calls (None: back to no tracing)."""
    global TRACING
    TRACING = tracing if tracing is not None else NO_TRACING


__all__ = ["NO_TRACING", "TRACING", "NoTracing", "Traced", "Tracing", "install"]
