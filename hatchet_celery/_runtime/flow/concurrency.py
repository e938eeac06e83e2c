"""Concurrency keys (``ConcurrencyExpression``): a cluster-wide cap per key, as Hatchet has.

Each declaration with concurrency is one *gate*: a workflow's ``concurrency`` gates whole
runs at their root tasks (a run holds its place until it finishes), a task's gates each
of its task runs (held until its final outcome, so retries keep their place). A gate is a
few Redis keys (``keys.conc_*``): per expression and key value a holder count and the
``max_runs`` of the latest arrival, the holders and the waiters, oldest first.

- Arrival is one script (``conc_acquire``): admit, queue, or apply the strategy of the
  keys that are full. A queued task run is parked (``flow.WAIT_CONCURRENCY``): it holds no
  worker slot and no broker message.
- Release is one script (``conc_release``), run by the ``task_finished`` /
  ``run_finished`` listeners: the holder leaves and the oldest waiters of its keys that
  now fit under every key they need are admitted and woken (``conc_wake``).
- A holder's lease is its task run (or run): while that is alive the core keeps it going
  (a lost worker's task is requeued when its task lease expires, and finishes somewhere).
  A sweep per gate (timer kind ``cs``) releases holders whose task run or run ended
  without the listener running (a worker killed between the two), and wakes admitted
  waiters whose wake was lost, so no capacity leaks.

Strategies: GROUP_ROUND_ROBIN queues per key, FIFO within a key; every key has its own
count, so freed capacity goes to the oldest waiter of that key and a long backlog on one
key never delays another (the round robin across keys). CANCEL_IN_PROGRESS evicts the
oldest holders of a full key, CANCEL_NEWEST cancels the arrival, and
CANCEL_QUEUED_EXCEPT_NEWEST / _OLDEST keep at most ``max_runs`` waiters per key (the
newest, or the oldest). With several expressions a run needs room under every key; a
CANCEL_NEWEST key that is full cancels the arrival, CANCEL_IN_PROGRESS evicts only when
every full key has that strategy, and otherwise the arrival queues.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatchet_celery._cel import CelProgram, cel_int, cel_key, compile_cel
from hatchet_celery._protocol import FINAL_TASK, TERMINAL
from hatchet_celery._runtime.core.derived import Derived
from hatchet_celery._runtime.core.engine import UNDECLARED_DELAY
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome, Rearm
from hatchet_celery._runtime.flow import common as flow
from hatchet_celery._timer_entries import ConcurrencySweep
from hatchet_celery.exceptions import ConcurrencyKeyError, TaskTimeoutError

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.runnables.task import Task
    from hatchet_celery.runnables.types import ConcurrencyExpression
    from hatchet_celery.runnables.workflow import BaseWorkflow

log = logging.getLogger(__name__)

SCAN_LIMIT = 200
SWEEP_SECONDS = 5.0
CEL_VARIABLES = ("input", "additional_metadata")
STRATEGIES = frozenset(
    {
        "GROUP_ROUND_ROBIN",
        "CANCEL_IN_PROGRESS",
        "CANCEL_NEWEST",
        "CANCEL_QUEUED_EXCEPT_NEWEST",
        "CANCEL_QUEUED_EXCEPT_OLDEST",
    }
)
# Legacy values of Hatchet's enum, read as the strategy they became.
LEGACY = {"DROP_NEWEST": "CANCEL_NEWEST", "QUEUE_NEWEST": "GROUP_ROUND_ROBIN"}
CANCEL_REASON = "CANCELLED_BY_CONCURRENCY_LIMIT"


@dataclass(frozen=True)
class Expr:
    key: CelProgram
    max_runs: int | CelProgram
    strategy: str


@dataclass(frozen=True)
class Spec:
    """One gate: its Redis name, its expressions and the tasks a holder parks and wakes."""

    gate: str
    workflow: str
    whole_run: bool
    exprs: tuple[Expr, ...]
    tasks: tuple[str, ...]
    what: str

    def holder(self, run_id: str, task: str) -> str:
        return run_id if self.whole_run else f"{run_id}/{task}"

    def evaluate(self, variables: dict[str, Any]) -> list[Any]:
        """``[key, max_runs, strategy]`` per expression (the script's ARGV tail)."""
        out: list[Any] = []
        for i, e in enumerate(self.exprs):
            what = f"concurrency expression {i + 1} of {self.what}"
            key = cel_key(e.key, variables, what=what)
            limit = cel_int(e.max_runs, variables, what=f"max_runs of {what}")
            if limit <= 0:
                raise ConcurrencyKeyError(f"{what}: max_runs evaluated to {limit}; it must be > 0")
            out += [key, limit, e.strategy]
        return out


def _compile(exprs: list[ConcurrencyExpression], what: str) -> tuple[Expr, ...]:
    compiled = []
    for i, e in enumerate(exprs):
        where = f"concurrency expression {i + 1} of {what}"
        strategy = getattr(e.limit_strategy, "value", str(e.limit_strategy))
        strategy = LEGACY.get(strategy, strategy)
        if strategy not in STRATEGIES:
            raise ValueError(f"{where}: limit_strategy {strategy} is not supported")
        key = compile_cel(e.expression, what=where, variables=CEL_VARIABLES)
        max_runs: int | CelProgram = (
            e.max_runs
            if isinstance(e.max_runs, int)
            else compile_cel(e.max_runs, what=f"max_runs of {where}", variables=CEL_VARIABLES)
        )
        compiled.append(Expr(key, max_runs, strategy))
    return tuple(compiled)


def _workflow_spec(workflow: BaseWorkflow[Any]) -> Spec | None:
    """The gate of a workflow's ``concurrency`` (whole runs)."""
    spec = None
    if workflow.config.concurrency:
        what = f"workflow {workflow.name!r}"
        spec = Spec(
            gate=f"w:{workflow.name}",
            workflow=workflow.name,
            whole_run=True,
            exprs=_compile(list(workflow.config.concurrency), what),
            tasks=tuple(workflow.compiled().roots),
            what=what,
        )
    return spec


def _task_spec(task: Task[Any, Any]) -> Spec | None:
    """The gate of a task's own ``concurrency`` (each task run)."""
    spec = None
    if task.concurrency:
        what = f"task {task.name!r} of workflow {task.workflow.name!r}"
        spec = Spec(
            gate=f"t:{task.workflow.name}:{task.name}",
            workflow=task.workflow.name,
            whole_run=False,
            exprs=_compile(list(task.concurrency), what),
            tasks=(task.name,),
            what=what,
        )
    return spec


# compiled on first use, once per declaration
workflow_spec: Derived[BaseWorkflow[Any], Spec | None] = Derived(_workflow_spec)
task_spec: Derived[Task[Any, Any], Spec | None] = Derived(_task_spec)


class ConcurrencyGate:
    """Admits ready task runs through the workflow's (``whole_run``) or the task's gate."""

    def __init__(self, whole_run: bool) -> None:
        self.whole_run = whole_run
        self.name = "concurrency.workflow" if whole_run else "concurrency.task"

    def spec(self, task: Task[Any, Any]) -> Spec | None:
        if not self.whole_run:
            return task_spec(task)
        spec = workflow_spec(task.workflow)
        return spec if spec is not None and task.name in spec.tasks else None

    def applies(self, task: Task[Any, Any]) -> bool:
        return self.spec(task) is not None

    def admit(self, engine: Engine, task: Task[Any, Any], items: list[Ready]) -> list[Ready]:
        spec = self.spec(task)
        if spec is None:
            return items
        keys = engine.keys
        now = engine.now()
        rows = flow.read_fields(engine, (i.run_id for i in items), "in", "md")
        pipe = engine.store.redis.pipeline(transaction=False)
        sent: list[Ready] = []
        for item, (raw_in, raw_md) in zip(items, rows, strict=True):
            try:
                tail = spec.evaluate(flow.cel_variables(raw_in, raw_md))
            except Exception as exc:
                flow.fail_held(engine, task, item.run_id, exc)
                continue
            engine.store.script_in(
                pipe,
                "conc_acquire",
                [
                    keys.conc_state(spec.gate),
                    keys.conc_queue(spec.gate),
                    keys.conc_held(spec.gate),
                    keys.run(item.run_id),
                    keys.timers,
                ],
                [
                    spec.holder(item.run_id, item.task),
                    item.run_id,
                    item.task,
                    item.attempt,
                    flow.WAIT_CONCURRENCY,
                    flow.watch_at(now),
                    ConcurrencySweep(spec.gate).member,
                    now + SWEEP_SECONDS,
                    SCAN_LIMIT,
                    len(spec.exprs),
                    *tail,
                ],
            )
            sent.append(item)
        admitted: list[Ready] = []
        for item, (verdict, woken, victims) in zip(sent, pipe.execute(), strict=True):
            if verdict == "admit":
                admitted.append(item)
            elif verdict == "cancel":
                self._cancel(engine, spec, spec.holder(item.run_id, item.task))
            for victim in victims:
                self._cancel(engine, spec, victim)
            for holder in woken:
                self.wake(engine, spec, holder)
        return admitted

    def _cancel(self, engine: Engine, spec: Spec, holder: str) -> None:
        run_id, _, task = holder.partition("/")
        flow.cancel(engine, run_id, task or None, CANCEL_REASON)

    def wake(self, engine: Engine, spec: Spec, holder: str) -> None:
        """Send on the parked tasks of an admitted holder; release it if they cannot run."""
        while True:
            run_id, _, task = holder.partition("/")
            res = engine.store.script(
                "conc_wake",
                [engine.keys.run(run_id), engine.keys.timers],
                [
                    run_id,
                    flow.WAIT_CONCURRENCY,
                    flow.watch_at(engine.now()),
                    "run" if spec.whole_run else "task",
                    *((task,) if task else spec.tasks),
                ],
            )
            flow.dispatch_after(engine, self, spec.workflow, run_id, list(res[2:]), res[1])
            if int(res[0]) == 1:
                return
            # Nothing of it can run any more (cancelled while it waited): pass the slot on.
            for other in release(engine, spec, holder):
                self.wake(engine, spec, other)
            return


WORKFLOW_GATE = ConcurrencyGate(whole_run=True)
TASK_GATE = ConcurrencyGate(whole_run=False)


def release(engine: Engine, spec: Spec, holder: str) -> list[str]:
    """Release a holder (or drop a waiter); returns the waiters admitted in its place."""
    keys = engine.keys
    res = engine.store.script(
        "conc_release",
        [keys.conc_state(spec.gate), keys.conc_queue(spec.gate), keys.conc_held(spec.gate)],
        [holder, SCAN_LIMIT],
    )
    return [str(h) for h in res]


def release_and_wake(engine: Engine, spec: Spec, holder: str) -> None:
    gate = WORKFLOW_GATE if spec.whole_run else TASK_GATE
    for admitted in release(engine, spec, holder):
        gate.wake(engine, spec, admitted)


def on_task_finished(engine: Engine, task: Task[Any, Any], run_id: str, status: str) -> None:
    spec = task_spec(task)
    if spec is not None:
        release_and_wake(engine, spec, spec.holder(run_id, task.name))


def on_run_finished(engine: Engine, workflow: str, run_id: str, status: str) -> None:
    wf = engine.registry.workflows.get(workflow)
    spec = workflow_spec(wf) if wf is not None else None
    if spec is not None:
        release_and_wake(engine, spec, run_id)


def _spec_of_gate(engine: Engine, gate: str) -> Spec | None:
    kind, _, rest = gate.partition(":")
    if kind == "w":
        wf = engine.registry.workflows.get(rest)
        return workflow_spec(wf) if wf is not None else None
    workflow, _, task_name = rest.rpartition(":")
    wf = engine.registry.workflows.get(workflow)
    task = wf.task_map().get(task_name) if wf is not None else None
    return task_spec(task) if task is not None else None


def sweep(engine: Engine, entry: ConcurrencySweep, now: float) -> Outcome:
    """Release holders whose run or task run ended unseen; wake admitted holders left parked.
    Done when the gate is empty: an arrival meanwhile re-arms the claimed timer itself
    (``conc_acquire``'s ``ZADD LT``), so the pump leaves it."""
    gate = entry.key
    spec = _spec_of_gate(engine, gate)
    redis = engine.store.redis
    if spec is None:  # not declared here: offered again to a worker that declares it
        return Rearm(now + UNDECLARED_DELAY)
    state = engine.keys.conc_state(gate)
    holders = [str(f)[2:] for f in redis.hkeys(state) if str(f)[:2] in ("h:", "w:")]
    if not holders:
        return DONE
    pipe = redis.pipeline(transaction=False)
    for holder in holders:
        run_id, _, task = holder.partition("/")
        probe = task or spec.tasks[0]
        pipe.hmget(engine.keys.run(run_id), ["st", f"s:{probe}", f"x:{probe}"])
        pipe.hexists(state, f"h:{holder}")
    flat = pipe.execute()
    rows = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
    gate_obj = WORKFLOW_GATE if spec.whole_run else TASK_GATE
    for holder, ((run_status, task_status, deadline), is_holder) in zip(holders, rows, strict=True):
        dead = run_status is None or run_status in TERMINAL
        if not spec.whole_run:
            dead = dead or task_status is None or task_status in FINAL_TASK
        if dead:
            release_and_wake(engine, spec, holder)
        elif task_status == flow.WAIT_CONCURRENCY and is_holder:
            gate_obj.wake(engine, spec, holder)
        elif task_status == flow.WAIT_CONCURRENCY and deadline and now >= float(deadline):
            _time_out(engine, spec, holder)
    return Rearm(now + SWEEP_SECONDS)


def _time_out(engine: Engine, spec: Spec, holder: str) -> None:
    """A waiter queued past its schedule timeout fails, as a queued task does."""
    run_id, _, task_name = holder.partition("/")
    wf = engine.registry.workflows[spec.workflow]
    tasks = wf.task_map()
    for name in (task_name,) if task_name else spec.tasks:
        task = tasks[name]
        flow.fail_held(
            engine,
            task,
            run_id,
            TaskTimeoutError(
                f"task {name!r} waited for its concurrency key longer than its "
                f"schedule_timeout ({task.schedule_timeout_s:g}s): SCHEDULING_TIMED_OUT"
            ),
        )
    release_and_wake(engine, spec, holder)
