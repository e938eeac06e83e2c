"""The extension points of the runtime, as types; the composition root fills them.

- A ``Gate`` decides when a ready task run may be published (conditions, pause,
  concurrency, rate limits, batching, affinity). ``Engine.dispatch`` passes every ready
  task run through the gates that apply to its task (computed once per task); a gate
  returns the entries to publish now and takes responsibility for the others (it must
  move them out of the QUEUED status atomically, so the watchdog does not re-dispatch
  them, and publish them later with ``Engine.dispatch(..., after=gate)`` or
  ``Engine.publish_ready``).
- ``task_finished`` / ``run_finished`` listeners run after a task run reached a final
  status or a run finished (release concurrency slots...).
- ``worker_started`` / ``worker_stopping`` listeners run when a worker's services start
  and when it stops cleanly (before its last heartbeat).
- ``trigger_checks`` run before a trigger creates anything; ``runs_created`` listeners
  see the runs a trigger created (with their options) before their roots are dispatched.
- ``beat_ticks`` run about once a second in celery beat (housekeeping that must go on with
  no worker up); ``undeclared_timeouts`` time out a queued task run another worker serves.

Nothing registers itself: ``_runtime/wiring.py`` lists every gate and listener, in order,
in one ``Extensions`` value that the engine is built with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery._runtime.timing.timers import TimerKind
    from hatchet_celery.runnables.task import Task


class RunRoute(NamedTuple):
    """A run's routing options as stored in its hash: the trigger's desired worker
    labels (``aff``, JSON) and its sticky worker (``sw``)."""

    labels: str | None = None
    sticky_worker: str | None = None


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
    # Gates (by name) whose check the transition that queued it already made, atomically
    # with queueing it: ``complete.lua`` reads the workflow's pause, so the pause gate
    # needs no script of its own for children released while it is not paused.
    checked: tuple[str, ...] = ()
    # The run's routing options, when the transition that queued it had them at hand
    # (the claim of the task whose completion released it): the affinity gate then needs
    # no read of its own.
    route: RunRoute | None = None


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


class BeatTick(Protocol):
    def __call__(self, engine: Engine, now: float) -> Any: ...


class UndeclaredTimeout(Protocol):
    """Time out a queued task run past its deadline that this process does not declare;
    True when it did."""

    def __call__(
        self, engine: Engine, run_id: str, task: str, attempt: int, now: float
    ) -> bool: ...


class WaitSweep(Protocol):
    """Handed the runs a process waits on, about once a second (schedule deadlines)."""

    def __call__(self, engine: Engine, run_ids: list[str], now: float) -> Any: ...


class WaitResolved(Protocol):
    """A wait was resolved (``waits.carry_out``): a durable wake-up, or a decision of the
    conditions gate (skip, cancel, queue)."""

    def __call__(self, engine: Engine, resolution: Any) -> None: ...


@dataclass(frozen=True)
class Extensions:
    """Every gate and listener of the runtime, in the order they apply."""

    gates: tuple[Gate, ...] = ()
    task_finished: tuple[TaskFinished, ...] = ()
    run_finished: tuple[RunFinished, ...] = ()
    worker_started: tuple[WorkerStarted, ...] = ()
    worker_stopping: tuple[WorkerStarted, ...] = ()
    trigger_checks: tuple[TriggerCheck, ...] = ()
    runs_created: tuple[RunsCreated, ...] = ()
    beat_ticks: tuple[BeatTick, ...] = ()
    undeclared_timeouts: tuple[UndeclaredTimeout, ...] = field(default=())
    wait_sweeps: tuple[WaitSweep, ...] = ()
    # timer kind -> its entry type and handler (``timing/timer_kinds.TIMER_KINDS``); the
    # worker's pump is built with it
    timer_kinds: Mapping[str, TimerKind[Any]] = field(default_factory=dict)
    durable_wakeups: tuple[WaitResolved, ...] = ()
    condition_decisions: tuple[WaitResolved, ...] = ()

    def gates_for(self, task: Task[Any, Any]) -> tuple[Gate, ...]:
        """The gates that apply to a task, in order."""
        return tuple(g for g in self.gates if g.applies(task))
