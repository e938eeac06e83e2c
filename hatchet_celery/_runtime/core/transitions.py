"""Transitions every part of the runtime records: a task run's success or failure.

Each is one Lua script (``complete`` / ``fail``) fenced by the claim token, then the
dispatch of what it released (children, a retry's on-failure task) and the finish
listeners. The executor, the watchdog, the timer pump and the gates all record outcomes
through here, so this module sits below all of them and imports none of them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_jsonable_python

from hatchet_celery._protocol import TERMINAL, TaskStatus
from hatchet_celery._runtime.core.engine import DEFAULT_SCHEDULE_TIMEOUT, REDISPATCH_SECONDS
from hatchet_celery._runtime.core.hooks import Ready, RunRoute
from hatchet_celery._runtime.core.task_run_ids import task_run_id_of
from hatchet_celery.exceptions import (
    IllegalTaskOutputError,
    NonRetryableException,
    TaskRunError,
)
from hatchet_celery.serde import HATCHET_PYDANTIC_SENTINEL

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery.runnables.task import Task

log = logging.getLogger(__name__)


def serialize_output(task: Task[Any, Any], output: Any) -> str:
    """JSON text of a task's output; ``""`` for no output. Other types fail the task."""
    if output is None:
        return ""
    if isinstance(output, BaseModel):
        data: Any = output.model_dump(mode="json", context=HATCHET_PYDANTIC_SENTINEL)
    elif dataclasses.is_dataclass(output) and not isinstance(output, type):
        adapter = TypeAdapter(type(output))
        data = adapter.dump_python(output, mode="json", context=HATCHET_PYDANTIC_SENTINEL)
    elif isinstance(output, dict):
        data = to_jsonable_python(output)
    else:
        raise IllegalTaskOutputError(
            f"task {task.name!r} of workflow {task.workflow.name!r} returned a "
            f"{type(output).__name__}; a task must return a dict, a pydantic model, "
            "a dataclass or None"
        )
    if not data:
        return ""
    text = json.dumps(data)
    if "\\u0000" in text:
        raise IllegalTaskOutputError(
            f"task {task.name!r} returned output containing a NUL character (\\u0000)"
        )
    return text


def _watch(now: float, schedule_timeout: float) -> tuple[float, float]:
    deadline = now + schedule_timeout
    return min(now + REDISPATCH_SECONDS, deadline), deadline


def on_failure_args(run_id: str, task: Task[Any, Any], now: float) -> list[Any]:
    shape = task.workflow.compiled()
    if not shape.on_failure:
        return ["", "", 0, 0]
    of_task = task.workflow.on_failure
    schedule = of_task.schedule_timeout_s if of_task else DEFAULT_SCHEDULE_TIMEOUT
    watch_at, deadline = _watch(now, schedule)
    return [shape.on_failure, task_run_id_of(run_id, shape.on_failure), watch_at, deadline]


def record_success(
    engine: Engine,
    task: Task[Any, Any],
    run_id: str,
    claim: str,
    task_run_id: str,
    payload: str,
    status: str = TaskStatus.COMPLETED,
    priority: int | None = None,
    route: RunRoute | None = None,
) -> None:
    """``route``: the run's routing options, when the caller read them (at the claim),
    handed on with the children this completion releases."""
    keys = engine.keys
    now = engine.now()
    shape = task.workflow.compiled()
    children = shape.children.get(task.name, ())
    args: list[Any] = [
        run_id,
        task.name,
        claim,
        payload,
        now,
        engine.config.retention_seconds,
        status,
        *on_failure_args(run_id, task, now),
        len(children),
    ]
    by_name = task.workflow.task_map()
    for child, nparents in children:
        watch_at, deadline = _watch(now, by_name[child].schedule_timeout_s)
        args += [child, nparents, task_run_id_of(run_id, child), watch_at, deadline]
    res = engine.store.script(
        "complete",
        [
            keys.run(run_id),
            keys.leases,
            keys.timers,
            keys.done_channel,
            keys.status_index,
            keys.paused,
        ],
        args,
    )
    if int(res[0]) != 1:
        log.info("hatchet_celery: outcome of %s in run %s was stale; dropped", task.name, run_id)
        return
    checked = ("pause",) if int(res[2]) == 0 else ()
    release(engine, task, run_id, task_run_id, res[3:], priority, checked, route)
    engine.task_finished(task, run_id, status)
    if res[1] in TERMINAL:
        engine.run_finished(task.workflow.name, run_id, res[1])


def release(
    engine: Engine,
    task: Task[Any, Any],
    run_id: str,
    parent_id: str,
    ready: list[Any],
    priority: int | None = None,
    checked: tuple[str, ...] = (),
    route: RunRoute | None = None,
) -> None:
    """Dispatch the task runs a transition queued (triples: name, task run id, attempt);
    ``checked``: the gates whose check the transition made (``Ready.checked``); ``route``:
    the run's routing options if known (``Ready.route``)."""
    if not ready:
        return
    wf = task.workflow.name
    engine.dispatch(
        Ready(
            wf, ready[i], run_id, ready[i + 1], int(ready[i + 2]), parent_id or None, priority,
            checked=checked, route=route,
        )
        for i in range(0, len(ready), 3)
    )  # fmt: skip


def error_json(task: Task[Any, Any], exc: BaseException, task_run_id: str) -> str:
    err = TaskRunError.from_exception(exc, task_run_id)
    err.task_name = task.name
    return json.dumps(err.to_dict())


def record_failure(
    engine: Engine,
    task: Task[Any, Any],
    run_id: str,
    claim: str,
    attempt: int,
    task_run_id: str,
    exc: BaseException,
    *,
    expected: str = TaskStatus.RUNNING,
    retry_allowed: bool = True,
    final_status: str = TaskStatus.FAILED,
) -> None:
    keys = engine.keys
    now = engine.now()
    retry = (
        retry_allowed and not isinstance(exc, NonRetryableException) and int(attempt) < task.retries
    )
    retry_at = now + task.backoff_seconds(int(attempt) + 1) if retry else now
    shape = task.workflow.compiled()
    args: list[Any] = [
        run_id,
        task.name,
        claim,
        error_json(task, exc, task_run_id),
        now,
        engine.config.retention_seconds,
        1 if retry else 0,
        retry_at,
        expected,
        final_status,
        *on_failure_args(run_id, task, now),
        task.schedule_timeout_s,
        *shape.descendants.get(task.name, ()),
    ]
    res = engine.store.script(
        "fail",
        [
            keys.run(run_id),
            keys.leases,
            keys.timers,
            keys.done_channel,
            keys.status_index,
        ],
        args,
    )
    if int(res[0]) == 2:
        if res[2]:
            release(engine, task, run_id, task_run_id, [res[2], "", res[3] if len(res) > 3 else 0])
        engine.task_finished(task, run_id, final_status)
        if res[1] in TERMINAL:
            engine.run_finished(task.workflow.name, run_id, res[1])
    if int(res[0]) != -1:
        level = logging.INFO if retry else logging.WARNING
        log.log(
            level,
            "hatchet_celery: %s of run %s failed (attempt %s): %s",
            task.name,
            run_id,
            int(attempt) + 1,
            exc,
        )
