"""Extension points of the runtime, so each capability lives in its own module.

- A ``Gate`` decides when a ready task run may be published (conditions, pause,
  concurrency, rate limits, affinity). ``Engine.dispatch`` passes every ready task run through the
  gates that apply to its task (computed once per task); a gate returns the entries to
  publish now and takes responsibility for the others (it must move them out of the
  QUEUED status atomically, so the watchdog does not re-dispatch them, and publish them
  later with ``Engine.dispatch(..., after=gate)`` or ``Engine.publish_ready``).
- ``task_finished`` / ``run_finished`` listeners run after a task run reached a final
  status or a run finished (release concurrency slots, wake waiters...).
- Timer kinds are not hooks: they are listed in ``timer_kinds.TIMER_KINDS``.
- ``worker_started`` listeners run when a worker's services start.
- ``trigger_checks`` run before a trigger creates anything; ``runs_created`` listeners
  see the runs a trigger created (with their options) before their roots are dispatched.

Extension modules register themselves at import; ``load_extensions`` imports the ones
that exist, once per process.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hatchet_celery._runtime.engine import Engine
    from hatchet_celery.runnables.task import Task


@dataclass
class Ready:
    """A task run that may be published: it is QUEUED in Redis."""

    workflow: str
    task: str
    run_id: str
    task_run_id: str = ""
    attempt: int = 0
    parent_id: str | None = None
    priority: int | None = None
    queue: str | None = None


class Gate(Protocol):
    name: str

    def applies(self, task: Task[Any, Any]) -> bool: ...

    def admit(self, engine: Engine, task: Task[Any, Any], items: list[Ready]) -> list[Ready]: ...


class TaskFinished(Protocol):
    def __call__(self, engine: Engine, task: Task[Any, Any], run_id: str, status: str) -> None: ...


class RunFinished(Protocol):
    def __call__(self, engine: Engine, workflow: str, run_id: str, status: str) -> None: ...


class WorkerStarted(Protocol):
    def __call__(self, engine: Engine) -> None: ...


class TriggerCheck(Protocol):
    """Raise before anything is created when a trigger cannot work (rate-limit units)."""

    def __call__(self, engine: Engine, workflow: Any, items: list[Any]) -> None: ...


class RunsCreated(Protocol):
    """Runs just created, before their roots are dispatched: ``(run_id, options)`` pairs
    and the context of the task that triggered them (sticky and affinity run options)."""

    def __call__(self, engine: Engine, runs: list[tuple[str, Any]], ctx: Any) -> None: ...


GATES: list[Gate] = []
TASK_FINISHED: list[TaskFinished] = []
RUN_FINISHED: list[RunFinished] = []
# Called once per worker start, after extensions are loaded (register declarations...).
WORKER_STARTED: list[WorkerStarted] = []
# Called once when a worker stops cleanly (warm shutdown), before its last heartbeat.
WORKER_STOPPING: list[WorkerStarted] = []
TRIGGER_CHECKS: list[TriggerCheck] = []
RUNS_CREATED: list[RunsCreated] = []
# Called by celery beat about once a second, with (engine, now): housekeeping that must go
# on with no worker up (schedule deadlines).
BEAT_TICKS: list[Any] = []

EXTENSION_MODULES = (
    "hatchet_celery._runtime.conditions",
    "hatchet_celery._runtime.pause",
    "hatchet_celery._runtime.concurrency",
    "hatchet_celery._runtime.ratelimits",
    "hatchet_celery._runtime.affinity",
    "hatchet_celery._runtime.durable_waits",
    "hatchet_celery._runtime.events",
    "hatchet_celery._runtime.schedules",
    "hatchet_celery._runtime.cancellation",
    "hatchet_celery._runtime.deadlines",
    "hatchet_celery._runtime.batch",
)

_loaded = False
_lock = threading.Lock()


def register_gate(gate: Gate, order: int | None = None) -> None:
    if any(g.name == gate.name for g in GATES):
        return
    if order is None:
        GATES.append(gate)
    else:
        GATES.insert(order, gate)
    # A gate that routes (sets ``Ready.queue``) must see what every other gate let through.
    GATES.sort(key=lambda g: bool(getattr(g, "last", False)))


def load_extensions() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for name in EXTENSION_MODULES:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        _loaded = True


def gates_for(task: Task[Any, Any]) -> list[Gate]:
    """The gates of a task, computed on first use and kept on the task."""
    cached: list[Gate] | None = getattr(task, "_gates", None)
    if cached is None:
        load_extensions()
        cached = [g for g in GATES if g.applies(task)]
        task._gates = cached  # type: ignore[attr-defined]
    return cached
