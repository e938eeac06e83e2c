"""Cancel runs and task runs, and replay finished runs.

Each is one Lua transition on the run hash (``cancel_run``, ``cancel_task``,
``replay_run``). Cancelling only changes state: the worker running a cancelled task
sees its status change within ``watchdog.CHECK_EVERY`` and stops it (an async task gets
``CancelledError`` at its next ``await``; a sync one sees ``ctx.is_cancelled``), and its
late outcome is rejected because the task is no longer RUNNING. Child runs spawned by a
cancelled run or task are cancelled next, each by its own transition.

Cancel and replay work from any process: the workflow's shape (parents, on-failure task,
schedule timeouts) comes from the declaration when this process has it, otherwise from
what a worker registered in Redis; replayed tasks are then dispatched by a worker's timer
pump, which applies the task gates (concurrency, rate limits...).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatchet_celery._protocol import TERMINAL, TaskStatus
from hatchet_celery._runtime.core.engine import DEFAULT_SCHEDULE_TIMEOUT, REDISPATCH_SECONDS
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.core.run_index import lookup_task_run
from hatchet_celery._runtime.core.task_run_ids import task_run_id_of
from hatchet_celery.exceptions import RunNotFoundError, WorkflowNotFoundError

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine

log = logging.getLogger(__name__)
# A cascade deeper than this is a cycle in the data, not a real tree of child runs.
MAX_CASCADE_DEPTH = 50


@dataclass(frozen=True)
class RunShape:
    """What cancel and replay need to know about a workflow's DAG."""

    workflow: str
    parents: dict[str, tuple[str, ...]]
    on_failure: str
    schedule_timeouts: dict[str, float]
    local: bool

    @classmethod
    def of(cls, engine: Engine, workflow: str) -> RunShape | None:
        declared = engine.registry.workflows.get(workflow)
        if declared is not None and declared.tasks:
            shape = declared.compiled()
            return cls(
                workflow,
                dict(shape.parents),
                shape.on_failure,
                {t.name: t.schedule_timeout_s for t in declared.tasks},
                local=True,
            )
        raw = engine.store.redis.hget(engine.keys.workflows, workflow)
        if raw is None:
            return None
        data = json.loads(raw)
        if "parents" not in data:
            return None
        return cls(
            workflow,
            {k: tuple(v) for k, v in data["parents"].items()},
            data.get("on_failure", ""),
            {k: float(v) for k, v in data.get("schedule_timeouts", {}).items()},
            local=False,
        )

    @classmethod
    def require(cls, engine: Engine, workflow: str, action: str) -> RunShape:
        """The shape, or ``WorkflowNotFoundError`` naming ``action`` (what needed it)."""
        shape = cls.of(engine, workflow)
        if shape is None:
            raise WorkflowNotFoundError(
                f"cannot {action}: workflow {workflow!r} is neither declared here nor "
                "registered in Redis by a worker"
            )
        return shape

    def timeout(self, task: str) -> float:
        return self.schedule_timeouts.get(task, DEFAULT_SCHEDULE_TIMEOUT)

    def on_failure_args(self, run_id: str, now: float) -> list[Any]:
        """The script arguments that queue the on-failure task (name, task run id, watchdog
        time, schedule deadline), or the empty four when the workflow has none."""
        if not self.on_failure:
            return ["", "", 0, 0]
        deadline = now + self.timeout(self.on_failure)
        watch = min(now + REDISPATCH_SECONDS, deadline) if self.local else now
        return [self.on_failure, task_run_id_of(run_id, self.on_failure), watch, deadline]

    def descendants(self, task: str) -> list[str]:
        children: dict[str, list[str]] = {}
        for child, ps in self.parents.items():
            for p in ps:
                children.setdefault(p, []).append(child)
        found: dict[str, None] = {}
        stack = list(children.get(task, ()))
        while stack:
            name = stack.pop()
            if name not in found:
                found[name] = None
                stack.extend(children.get(name, ()))
        return list(found)


def _script_keys(engine: Engine, run_id: str) -> list[str]:
    k = engine.keys
    return [k.run(run_id), k.leases, k.timers, k.done_channel, k.status_index, k.task_runs]


def _workflow_of(engine: Engine, run_id: str) -> str | None:
    value = engine.store.redis.hget(engine.keys.run(run_id), "wf")
    return str(value) if value is not None else None


def _notify(engine: Engine, workflow: str, run_id: str, tasks: list[str], status: str) -> None:
    """Run the finish listeners (slots, locks...) for what this process has declared."""
    for name in tasks:
        task = engine.registry.tasks.get(engine.celery_name(workflow, name))
        if task is not None:
            engine.task_finished(task, run_id, TaskStatus.CANCELLED)
    if status in TERMINAL:
        engine.run_finished(workflow, run_id, status)


# --- cancel -------------------------------------------------------------------------------


def cancel(engine: Engine, external_id: str) -> bool:
    """Cancel a run (by run id) or one task run (by task run id); False if nothing changed."""
    if engine.store.redis.exists(engine.keys.run(external_id)):
        return cancel_run(engine, external_id)
    found = lookup_task_run(engine, external_id)
    if found is None:
        raise RunNotFoundError(f"no run or task run {external_id!r} (or it expired)")
    return cancel_task(engine, found[0], found[1])


def cancel_run(engine: Engine, run_id: str, depth: int = 0) -> bool:
    """Cancel every unfinished task run of ``run_id`` and its child runs."""
    now = engine.now()
    res = engine.store.script(
        "cancel_run", _script_keys(engine, run_id), [run_id, now, engine.config.retention_seconds]
    )
    changed = int(res[0]) == 1
    if changed:
        workflow = _workflow_of(engine, run_id) or ""
        _notify(engine, workflow, run_id, [str(t) for t in res[2::2]], str(res[1]))
    _cancel_children(engine, run_id, depth)
    return changed


def cancel_task(engine: Engine, run_id: str, task: str, depth: int = 0) -> bool:
    """Cancel one task run: its descendants never run; its child runs are cancelled."""
    workflow = _workflow_of(engine, run_id)
    if workflow is None:
        raise RunNotFoundError(f"run {run_id!r} not found (or it expired)")
    shape = RunShape.require(engine, workflow, f"cancel task {task!r} of run {run_id}")
    now = engine.now()
    of_args = shape.on_failure_args(run_id, now)
    res = engine.store.script(
        "cancel_task",
        _script_keys(engine, run_id),
        [run_id, now, engine.config.retention_seconds, task, *of_args, *shape.descendants(task)],
    )
    task_run_id = engine.store.redis.hget(engine.keys.run(run_id), f"i:{task}")
    changed = int(res[0]) == 1
    if changed:
        if res[3] and shape.local:
            engine.dispatch([Ready(workflow, str(res[3]), run_id, of_args[1], 0)])
        _notify(engine, workflow, run_id, [task], str(res[1]))
    if task_run_id:
        _cancel_children(engine, str(task_run_id), depth)
    return changed


def _cancel_children(engine: Engine, parent_id: str, depth: int) -> None:
    if depth >= MAX_CASCADE_DEPTH:
        log.warning(
            "hatchet_celery: child-run cancellation deeper than %d stopped at %s",
            MAX_CASCADE_DEPTH,
            parent_id,
        )
        return
    children = engine.store.redis.zrange(engine.keys.index("parent", parent_id), 0, -1)
    for child in children:
        cancel_run(engine, str(child), depth + 1)


# --- replay -------------------------------------------------------------------------------


def resolve_run_id(engine: Engine, external_id: str) -> str:
    """The run id of a run id or task run id."""
    if engine.store.redis.exists(engine.keys.run(external_id)):
        return external_id
    found = lookup_task_run(engine, external_id)
    if found is None:
        raise RunNotFoundError(f"no run or task run {external_id!r} (or it expired)")
    return found[0]


def replay(engine: Engine, external_id: str) -> list[tuple[str, int]]:
    """Replay a finished run. By its run id every task runs again from the roots (as in
    Hatchet); by a task run id, the failed and cancelled task runs are queued again
    (attempt + 1) with their descendants. Returns the
    (task, attempt) pairs queued; empty when the run is not finished."""
    run_id = resolve_run_id(engine, external_id)
    info = engine.store.redis.hmget(engine.keys.run(run_id), "wf", "pr", "ptr")
    workflow = str(info[0]) if info[0] is not None else None
    if workflow is None:
        raise RunNotFoundError(f"run {run_id!r} not found (or it expired)")
    shape = RunShape.require(engine, workflow, f"replay run {run_id}")
    args: list[Any] = [
        run_id,
        engine.now(),
        REDISPATCH_SECONDS,
        0 if shape.local else 1,
        len(shape.parents),
        # by its run id the whole DAG runs again (Hatchet); by a task run id, what failed
        1 if external_id == run_id else 0,
    ]
    for name, parents in shape.parents.items():
        args += [name, shape.timeout(name), len(parents), *parents]
    keys = engine.keys
    res = engine.store.script(
        "replay_run", [keys.run(run_id), keys.timers, keys.status_index], args
    )
    if int(res[0]) != 1:
        return []
    queued = [(str(res[i]), str(res[i + 1]), int(res[i + 2])) for i in range(1, len(res), 3)]
    if shape.local:
        priority = int(info[1]) if info[1] else None
        engine.dispatch(
            Ready(workflow, name, run_id, tid, attempt, str(info[2] or "") or None, priority)
            for name, tid, attempt in queued
        )
    return [(name, attempt) for name, _, attempt in queued]


__all__ = [
    "RunShape",
    "cancel",
    "cancel_run",
    "cancel_task",
    "replay",
    "resolve_run_id",
]
