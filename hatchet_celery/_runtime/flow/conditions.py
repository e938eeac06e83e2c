"""The conditions gate: ``wait_for`` / ``skip_if`` / ``cancel_if`` of a task.

Evaluated when the task run becomes ready (its parents are done), as Hatchet does:

1. Parent conditions are CEL over a parent's output, final by now, so they are settled at
   once: when every SKIP group (resp. CANCEL group) holding a parent condition has a true
   one, the task is skipped (resp. cancelled); a QUEUE group with a true one is met.
2. What remains of the sleep and event conditions becomes one wait (``waits.py``): the
   QUEUE groups not yet met, and the SKIP / CANCEL groups' sleeps and events. The first
   action whose groups are all met wins (a sleep and an event racing: the first one).
3. With no sleep or event left to wait for in QUEUE, the task is queued now (a lone
   ``skip_if`` event cannot hold a task that has nothing else to wait for).

Outcomes: QUEUE goes on through the gates behind this one; SKIP records the task
``SKIPPED`` with output ``{"skipped": true}`` through ``complete.lua`` (children still
run); CANCEL records it ``CANCELLED`` through ``fail.lua`` (descendants blocked, the run
ends CANCELLED). A decision is stored in ``cd:<task>`` so a retry, or a requeue after a
lost worker, does not wait again.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, cast

from hatchet_celery._cel import CelEvaluationError, CelProgram, cel_bool, compile_cel
from hatchet_celery._protocol import TaskStatus
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome, Rearm
from hatchet_celery._runtime.core.transitions import record_failure, record_success
from hatchet_celery._runtime.waits.store import (
    RECOVERY_SECONDS,
    Resolution,
    Wait,
    WaitCondition,
    register,
)
from hatchet_celery._timer_entries import DecisionRecovery
from hatchet_celery.conditions import (
    Action,
    Condition,
    ParentCondition,
    SleepCondition,
    UserEventCondition,
)
from hatchet_celery.exceptions import HatchetCeleryError

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)
SKIPPED_OUTPUT = json.dumps({"skipped": True})


class TaskCancelledByCondition(HatchetCeleryError):
    """A ``cancel_if`` condition of the task was met."""


def _program(cond: ParentCondition | UserEventCondition, what: str) -> CelProgram | None:
    """The condition's compiled expression, compiled on first use and kept on it."""
    if not cond.expression:
        return None
    cached: CelProgram | None = getattr(cond, "_program", None)
    if cached is None:
        variables = (
            ("output", "input")
            if isinstance(cond, ParentCondition)
            else ("input", "additional_metadata", "event_key")
        )
        cached = compile_cel(cond.expression, what=what, variables=variables)
        cond._program = cached  # type: ignore[union-attr]
    return cached


class ConditionsGate:
    name = "conditions"

    def applies(self, task: Task[Any, Any]) -> bool:
        return any(cs.groups for cs in task.conditions)

    def admit(self, engine: Engine, task: Task[Any, Any], items: list[Ready]) -> list[Ready]:
        admitted: list[Ready] = []
        for item in items:
            # A retry (attempt > 0) already had its conditions settled before it first ran.
            if item.attempt > 0 or self._decide(engine, task, item):
                admitted.append(item)
        return admitted

    # --- one ready task run -----------------------------------------------------------
    def _decide(self, engine: Engine, task: Task[Any, Any], item: Ready) -> bool:
        """True: queue now. False: this gate took the task run (waiting, skipped...)."""
        parents = sorted(
            {c.parent.name for c in self._conditions(task) if isinstance(c, ParentCondition)}
        )
        fields = [f"cd:{task.name}", f"s:{task.name}", f"q:{task.name}", "in", "pr", "ptr"]
        for p in parents:
            fields += [f"o:{p}", f"s:{p}"]
        values: list[str | None] = engine.store.redis.hmget(  # type: ignore[assignment]
            engine.keys.run(item.run_id), fields
        )
        decided, status, queued_at, raw_input = values[0], values[1], values[2], values[3]
        if status != TaskStatus.QUEUED:
            return False  # a duplicate: the task run is waiting, running or done
        if decided == "QUEUE":
            return True
        if decided in ("SKIP", "CANCEL"):
            return self._decide_now(engine, task, item, decided)
        outputs: dict[str, Any] = {}
        for i, p in enumerate(parents):
            raw = values[6 + 2 * i]
            outputs[p] = json.loads(raw) if raw else {}
        variables_input = json.loads(raw_input) if raw_input else {}
        met = self._parent_results(task, outputs, variables_input)
        for action in (Action.SKIP, Action.CANCEL):
            if self._settled_by_parents(task, action, met):
                return self._decide_now(engine, task, item, action.value)
        wait = self._wait(engine, task, item, met, float(queued_at or engine.now()))
        if wait is None:
            return True
        if not register(engine, wait, str(item.attempt), engine.now()):
            log.debug("hatchet_celery: %s of run %s was no longer queued", task.name, item.run_id)
        return False

    @staticmethod
    def _conditions(task: Task[Any, Any]) -> list[Condition]:
        return [c for cs in task.conditions for g in cs.groups for c in g]

    @staticmethod
    def _parent_results(
        task: Task[Any, Any], outputs: dict[str, Any], input: Any
    ) -> dict[int, bool]:
        """id(condition) -> True / False for every parent condition."""
        met: dict[int, bool] = {}
        for cs in task.conditions:
            for group in cs.groups:
                for c in group:
                    if not isinstance(c, ParentCondition):
                        continue
                    what = f"ParentCondition of task {task.name!r} on {c.parent.name!r}"
                    program = _program(c, what)
                    if program is None:
                        met[id(c)] = True
                        continue
                    try:
                        met[id(c)] = cel_bool(
                            program,
                            {"output": outputs.get(c.parent.name, {}), "input": input},
                            what=what,
                        )
                    except CelEvaluationError as exc:
                        log.info("hatchet_celery: %s", exc)
                        met[id(c)] = False
        return met

    @staticmethod
    def _settled_by_parents(task: Task[Any, Any], action: Action, met: dict[int, bool]) -> bool:
        groups = [
            g
            for cs in task.conditions
            if cs.action is action
            for g in cs.groups
            if any(isinstance(c, ParentCondition) for c in g)
        ]
        return bool(groups) and all(any(met.get(id(c), False) for c in g) for g in groups)

    def _wait(
        self,
        engine: Engine,
        task: Task[Any, Any],
        item: Ready,
        met: dict[int, bool],
        queued_at: float,
    ) -> Wait | None:
        """The wait for what parents did not settle; None when nothing holds the task."""
        conds: list[WaitCondition] = []
        has_queue = False
        for cs in task.conditions:
            for gi, group in enumerate(cs.groups):
                if cs.action is Action.QUEUE and any(met.get(id(c), False) for c in group):
                    continue  # met by a parent
                timed = [c for c in group if isinstance(c, SleepCondition | UserEventCondition)]
                if not timed:
                    continue
                has_queue = has_queue or cs.action is Action.QUEUE
                for c in timed:
                    conds.append(
                        self._wait_condition(
                            engine, task, c, cs.action.value, f"{cs.action.value}{gi}", len(conds)
                        )
                    )
        if not has_queue:
            return None
        return Wait(
            run_id=item.run_id,
            task=task.name,
            workflow=task.workflow.name,
            wid="c",
            mode="gate",
            conditions=conds,
            schedule_timeout=task.schedule_timeout_s,
            since=queued_at,
        )

    @staticmethod
    def _wait_condition(
        engine: Engine, task: Task[Any, Any], c: Condition, action: str, group: str, index: int
    ) -> WaitCondition:
        if isinstance(c, SleepCondition):
            return WaitCondition.of(c, id=str(index), action=action, group=group)
        assert isinstance(c, UserEventCondition)
        _program(c, f"UserEventCondition {c.event_key!r} of task {task.name!r}")
        event_key = engine.registry.config.apply_namespace(c.event_key)
        return WaitCondition.of(c, id=str(index), action=action, group=group, event_key=event_key)

    def _decide_now(self, engine: Engine, task: Task[Any, Any], item: Ready, action: str) -> bool:
        keys = engine.keys
        now = engine.now()
        res = engine.store.script(
            "cond_decide",
            [keys.run(item.run_id), keys.timers, keys.leases],
            [
                item.run_id,
                task.name,
                item.attempt,
                action,
                now,
                now + engine.config.lease_seconds,
                now + RECOVERY_SECONDS,
            ],
        )
        if int(res[0]) != 1:
            return False
        if res[1] == "QUEUE":
            return True
        carry_out_decision(
            engine,
            task,
            item.run_id,
            str(res[1]),
            item.attempt,
            str(res[2]),
            item.priority,
            item.parent_id,
        )
        return False


GATE = ConditionsGate()


def carry_out_resolution(engine: Engine, resolution: Resolution) -> None:
    """A wait of this gate was resolved (``waits.carry_out``): act on its decision."""
    r = resolution
    task = engine.registry.tasks.get(engine.celery_name(r.workflow, r.task))
    if task is None:
        return  # the 'wdx' timer, due now, lets a worker with the code do it
    carry_out_decision(
        engine, task, r.run_id, r.action, r.attempt, r.claim, r.priority, r.parent_task_run_id
    )


def carry_out_decision(
    engine: Engine,
    task: Task[Any, Any],
    run_id: str,
    action: str,
    attempt: int,
    claim: str,
    priority: int | None,
    parent_task_run_id: str | None,
    *,
    drop_timer: bool = True,
) -> None:
    """Act on a decided wait of the gate; fenced (claim token, expected status), so twice
    is once. The decider then drops its recovery timer (``drop_timer``); the timer pump,
    handling that timer, leaves it to its own settle."""
    if action == "QUEUE":
        engine.dispatch(
            [
                Ready(
                    task.workflow.name, task.name, run_id, "", attempt, parent_task_run_id, priority
                )
            ],
            after=GATE,
        )
    elif action == "SKIP":
        record_success(
            engine,
            task,
            run_id,
            claim,
            "",
            SKIPPED_OUTPUT,
            status=TaskStatus.SKIPPED,
            priority=priority,
        )
    elif action == "CANCEL":
        record_failure(
            engine,
            task,
            run_id,
            claim,
            attempt,
            "",
            TaskCancelledByCondition(
                f"task {task.name!r} was cancelled: a cancel_if condition was met"
            ),
            expected=TaskStatus.WAITING,
            retry_allowed=False,
            final_status=TaskStatus.CANCELLED,
        )
    if drop_timer:
        engine.store.redis.zrem(engine.keys.timers, DecisionRecovery(run_id, task.name).member)


def recover_decision(engine: Engine, entry: DecisionRecovery, now: float) -> Outcome:
    """Carry out a gate decision whose process died, or that a process without the code took."""
    run_id, task_name = entry.run_id, entry.task
    values = engine.store.redis.hmget(
        engine.keys.run(run_id),
        [
            "wf",
            f"cd:{task_name}",
            f"s:{task_name}",
            f"a:{task_name}",
            f"c:{task_name}",
            "pr",
            "ptr",
        ],
    )
    wf, decided, status, attempt, claim, priority, ptr = cast(list[str | None], values)
    expected = {
        "QUEUE": TaskStatus.QUEUED,
        "SKIP": TaskStatus.RUNNING,
        "CANCEL": TaskStatus.WAITING,
    }.get(decided or "")
    if wf is None or expected is None or status != expected:
        return DONE  # carried out already (or the run is gone)
    task = engine.registry.tasks.get(engine.celery_name(wf, task_name))
    if task is None:  # a worker that has the code will take it
        return Rearm(now + RECOVERY_SECONDS)
    carry_out_decision(
        engine,
        task,
        run_id,
        str(decided),
        int(attempt or 0),
        str(claim or "0"),
        int(priority) if priority else None,
        ptr or None,
        drop_timer=False,
    )
    return DONE


__all__ = ["GATE", "ConditionsGate", "TaskCancelledByCondition", "carry_out_decision"]
