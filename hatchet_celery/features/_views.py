"""Hatchet's REST shapes of a run, built from its parsed hash (``state.RunState``).

Hatchet's engine keeps an event history per task run; here the history of a task run is
derived from its state: each attempt before the current one failed (that is the only way
an attempt is retried), so a task at attempt ``n`` has ``n`` FAILED + RETRYING pairs,
then the events of its current attempt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hatchet_celery._protocol import TaskStatus
from hatchet_celery._runtime.core.state import RunState, TaskState
from hatchet_celery.clients.admin import RunStatus, TaskRunDetail, WorkflowRunDetail
from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta
from hatchet_celery.clients.rest.models.v1_task_event import V1TaskEvent
from hatchet_celery.clients.rest.models.v1_task_event_type import V1TaskEventType
from hatchet_celery.clients.rest.models.v1_task_status import V1TaskStatus
from hatchet_celery.clients.rest.models.v1_task_summary import V1TaskSummary
from hatchet_celery.clients.rest.models.v1_workflow_run import V1WorkflowRun
from hatchet_celery.clients.rest.models.v1_workflow_run_details import V1WorkflowRunDetails
from hatchet_celery.clients.rest.models.v1_workflow_type import V1WorkflowType

_STATUS: dict[str, V1TaskStatus] = {
    TaskStatus.QUEUED: V1TaskStatus.QUEUED,
    TaskStatus.RUNNING: V1TaskStatus.RUNNING,
    # a durable task parked on a wait has started: Hatchet shows it RUNNING
    TaskStatus.SUSPENDED: V1TaskStatus.RUNNING,
    TaskStatus.COMPLETED: V1TaskStatus.COMPLETED,
    TaskStatus.SKIPPED: V1TaskStatus.COMPLETED,
    TaskStatus.FAILED: V1TaskStatus.FAILED,
    TaskStatus.CANCELLED: V1TaskStatus.CANCELLED,
}


def task_status(status: str) -> V1TaskStatus:
    """Hatchet's five statuses; a task waiting in a gate (conditions, limits) is QUEUED."""
    return _STATUS.get(status, V1TaskStatus.QUEUED)


def dt(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts else None


def _meta(id: str, created: float, updated: float | None) -> APIResourceMeta:
    c = datetime.fromtimestamp(created, UTC)
    return APIResourceMeta(id=id, created_at=c, updated_at=dt(updated) or c)


def _duration(start: float | None, end: float | None) -> int | None:
    return int((end - start) * 1000) if start and end else None


def is_standalone(state: RunState) -> bool:
    """A standalone task's run has one task named after its workflow (lower-cased)."""
    names = list(state.tasks)
    return len(names) == 1 and state.workflow.lower().endswith(names[0])


def _error_text(task: TaskState) -> str | None:
    return str(task.error) if task.error is not None and task.status == TaskStatus.FAILED else None


def task_summary(state: RunState, task: TaskState, payloads: bool = True) -> V1TaskSummary:
    created = task.queued_at or state.created_at
    return V1TaskSummary(
        metadata=_meta(task.id or state.id, created, task.finished_at or task.started_at),
        action_id=f"{state.workflow}:{task.name}",
        retry_count=task.attempt,
        attempt=task.attempt + 1,
        additional_metadata=state.metadata,
        created_at=datetime.fromtimestamp(created, UTC),
        display_name=f"{task.name}-{int(created)}",
        duration=_duration(task.started_at, task.finished_at),
        error_message=_error_text(task),
        finished_at=dt(task.finished_at),
        input=state.input if payloads and isinstance(state.input, dict) else {},
        output=task.output if payloads and isinstance(task.output, dict) else None,
        status=task_status(task.status),
        started_at=dt(task.started_at),
        task_external_id=task.id or state.id,
        type=V1WorkflowType.TASK if is_standalone(state) else V1WorkflowType.DAG,
        workflow_id=state.workflow,
        workflow_name=state.workflow,
        workflow_run_external_id=state.id,
        parent_task_external_id=state.parent_task_run_id,
    )


def run_output(state: RunState) -> dict[str, Any]:
    return {
        name: t.output
        for name, t in state.tasks.items()
        if t.status in (TaskStatus.COMPLETED, TaskStatus.SKIPPED) and t.output is not None
    }


def run_summary(state: RunState, payloads: bool = True) -> V1TaskSummary:
    """One row of ``runs.list``: the run, with its task runs as ``children`` (DAGs)."""
    tasks = sorted(state.tasks.values(), key=lambda t: (t.queued_at or 0, t.name))
    errors = [e for e in (_error_text(t) for t in tasks) if e]
    attempt = max((t.attempt for t in tasks), default=0)
    standalone = is_standalone(state)
    if standalone:
        only = tasks[0]
        output: Any = only.output if isinstance(only.output, dict) else None
        task_id, name = only.id or state.id, only.name
    else:
        output, task_id, name = run_output(state), state.id, state.workflow
        if len(tasks) == 1 and isinstance(tasks[0].output, dict):
            # A one-task DAG reports its task's output, as Hatchet's run rows do.
            output = tasks[0].output
    return V1TaskSummary(
        metadata=_meta(state.id, state.created_at, state.finished_at or state.started_at),
        retry_count=attempt,
        attempt=attempt + 1,
        additional_metadata=state.metadata,
        children=None if standalone else [task_summary(state, t, payloads) for t in tasks],
        created_at=datetime.fromtimestamp(state.created_at, UTC),
        display_name=f"{name}-{int(state.created_at)}",
        duration=_duration(state.started_at, state.finished_at),
        error_message="\n".join(errors) or None,
        finished_at=dt(state.finished_at),
        input=state.input if payloads and isinstance(state.input, dict) else {},
        output=output if payloads else None,
        status=task_status(state.status),
        started_at=dt(state.started_at),
        task_external_id=task_id,
        type=V1WorkflowType.TASK if standalone else V1WorkflowType.DAG,
        workflow_id=state.workflow,
        workflow_name=state.workflow,
        workflow_run_external_id=state.id,
        parent_task_external_id=state.parent_task_run_id,
    )


def workflow_run(state: RunState) -> V1WorkflowRun:
    errors = [e for e in (_error_text(t) for t in state.tasks.values()) if e]
    return V1WorkflowRun(
        metadata=_meta(state.id, state.created_at, state.finished_at or state.started_at),
        status=task_status(state.status),
        started_at=dt(state.started_at),
        finished_at=dt(state.finished_at),
        duration=_duration(state.started_at, state.finished_at),
        additional_metadata=state.metadata,
        display_name=f"{state.workflow}-{int(state.created_at)}",
        workflow_id=state.workflow,
        output=run_output(state),
        error_message="\n".join(errors) or None,
        input=state.input if isinstance(state.input, dict) else {},
        created_at=dt(state.created_at),
        parent_task_external_id=state.parent_task_run_id,
    )


def task_events(state: RunState) -> list[V1TaskEvent]:
    """Each task run's history, derived from its state (see the module docstring)."""
    events: list[tuple[float, V1TaskEventType, TaskState, int, str | None]] = []
    for t in state.tasks.values():
        queued = t.queued_at or state.created_at
        events.append((queued, V1TaskEventType.QUEUED, t, 0, None))
        for attempt in range(t.attempt):
            earlier = t.attempt_errors.get(attempt)  # kept by fail.lua for every attempt
            error = str(earlier) if earlier is not None else None
            events.append((queued, V1TaskEventType.FAILED, t, attempt, error))
            events.append((queued, V1TaskEventType.RETRYING, t, attempt, None))
        if t.started_at:
            events.append((t.started_at, V1TaskEventType.STARTED, t, t.attempt, None))
        end = t.finished_at or t.started_at or queued
        final = _final_event(t)
        if final is not None:
            events.append((end, final, t, t.attempt, _error_text(t)))
    events.sort(key=lambda e: e[0])
    return [
        V1TaskEvent(
            id=i,
            task_id=t.id or state.id,
            timestamp=datetime.fromtimestamp(ts, UTC),
            event_type=kind,
            message=kind.value.lower().replace("_", " "),
            error_message=error,
            worker_id=t.worker or None,
            task_display_name=f"{t.name}-{int(t.queued_at or state.created_at)}",
            retry_count=attempt,
            attempt=attempt + 1,
        )
        for i, (ts, kind, t, attempt, error) in enumerate(events, start=1)
    ]


def _final_event(t: TaskState) -> V1TaskEventType | None:
    if t.status == TaskStatus.COMPLETED:
        return V1TaskEventType.FINISHED
    if t.status == TaskStatus.SKIPPED:
        return V1TaskEventType.SKIPPED
    if t.status == TaskStatus.CANCELLED:
        return V1TaskEventType.CANCELLED
    if t.status == TaskStatus.FAILED:
        text = _error_text(t) or ""
        if "SCHEDULING_TIMED_OUT" in text:
            return V1TaskEventType.SCHEDULING_TIMED_OUT
        if "TIMED_OUT" in text:
            return V1TaskEventType.TIMED_OUT
        return V1TaskEventType.FAILED
    return None


def run_details(state: RunState) -> V1WorkflowRunDetails:
    tasks = sorted(state.tasks.values(), key=lambda t: (t.queued_at or 0, t.name))
    return V1WorkflowRunDetails(
        run=workflow_run(state),
        task_events=task_events(state),
        tasks=[task_summary(state, t) for t in tasks],
    )


def run_detail(state: RunState) -> WorkflowRunDetail:
    """``runs.get_details``: the task runs created so far, by task name."""
    return WorkflowRunDetail(
        external_id=state.id,
        status=RunStatus(task_status(state.status).value),
        input=state.input if isinstance(state.input, dict) else None,
        additional_metadata=state.metadata,
        task_runs={
            name: TaskRunDetail(
                external_id=t.id,
                readable_id=name,
                output=t.output if isinstance(t.output, dict) else None,
                error=_error_text(t),
                status=task_status(t.status),
                is_evicted=t.evicted,
            )
            for name, t in state.tasks.items()
        },
        done=state.done,
    )
