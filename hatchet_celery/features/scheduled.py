"""``hatchet.scheduled``: runs that start at a given instant, kept in Redis until then.

A scheduled run is a timer of the workers' shared timer pump (``_runtime/timing/schedules.py``),
so it survives restarts of every process and fires within the pump's interval of its
time when a worker is up. ``wf.schedule()`` answers with a ``WorkflowVersion``-shaped
object, as Hatchet's gRPC call does; this client answers with Hatchet's REST shapes.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from hatchet_celery._protocol import RunStatus
from hatchet_celery._runtime.timing import crons, schedules
from hatchet_celery._runtime.timing.schedules import Scheduled
from hatchet_celery._twins import parameters
from hatchet_celery.clients.rest.models.scheduled_run_status import ScheduledRunStatus
from hatchet_celery.clients.rest.models.scheduled_workflows import ScheduledWorkflows
from hatchet_celery.clients.rest.models.scheduled_workflows_bulk_delete_response import (
    ScheduledWorkflowsBulkDeleteResponse,
)
from hatchet_celery.clients.rest.models.scheduled_workflows_bulk_error import (
    ScheduledWorkflowsBulkError,
)
from hatchet_celery.clients.rest.models.scheduled_workflows_bulk_update_item import (
    ScheduledWorkflowsBulkUpdateItem,
)
from hatchet_celery.clients.rest.models.scheduled_workflows_bulk_update_response import (
    ScheduledWorkflowsBulkUpdateResponse,
)
from hatchet_celery.clients.rest.models.scheduled_workflows_list import ScheduledWorkflowsList
from hatchet_celery.clients.rest.models.scheduled_workflows_order_by_field import (
    ScheduledWorkflowsOrderByField,
)
from hatchet_celery.clients.rest.models.workflow_run_order_by_direction import (
    WorkflowRunOrderByDirection,
)
from hatchet_celery.clients.rest.models.workflow_run_status import WorkflowRunStatus
from hatchet_celery.features import _triggers
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient, utc
from hatchet_celery.features._query import OffsetLimit, Query, takes

log = logging.getLogger(__name__)

# Spelled here because ``list`` is also a method name inside the client class.
Statuses = list[ScheduledRunStatus]
Ids = list[str]
Rows = list[Scheduled]
Updates = list[ScheduledWorkflowsBulkUpdateItem] | list[tuple[str, datetime]]

# Run hash status -> the legacy run status that scheduled-run rows report.
_RUN_STATUS: dict[str, WorkflowRunStatus] = {
    RunStatus.QUEUED: WorkflowRunStatus.QUEUED,
    RunStatus.RUNNING: WorkflowRunStatus.RUNNING,
    RunStatus.COMPLETED: WorkflowRunStatus.SUCCEEDED,
    RunStatus.FAILED: WorkflowRunStatus.FAILED,
    RunStatus.CANCELLED: WorkflowRunStatus.CANCELLED,
}


class ScheduledQuery(OffsetLimit):
    """The filters of ``hatchet.scheduled.list``, in Hatchet's order."""

    workflow_id: str | None = None
    parent_workflow_run_id: str | None = None
    statuses: Statuses | None = None
    additional_metadata: dict[str, Any] | None = None
    order_by_field: ScheduledWorkflowsOrderByField | None = None
    order_by_direction: WorkflowRunOrderByDirection | None = None


class ScheduledBulkDelete(Query, kw_only=True):
    """What ``hatchet.scheduled.bulk_delete`` deletes: ids, or the runs matching filters."""

    scheduled_ids: Ids | None = None
    workflow_id: str | None = None
    parent_workflow_run_id: str | None = None
    parent_step_run_id: str | None = None
    statuses: Statuses | None = None
    additional_metadata: dict[str, Any] | None = None


class ScheduledWorkflow(BaseModel):
    """One entry of ``WorkflowVersion.scheduled_workflows``: the schedule id and time."""

    id: str
    trigger_at: datetime


class WorkflowVersion(BaseModel):
    """What ``wf.schedule()`` returns (Hatchet's gRPC ``WorkflowVersion`` message).

    ``id`` is the scheduled run's id here (Hatchet puts a workflow version id there and
    the schedule in ``scheduled_workflows``), so ``schedule.id`` is what
    ``hatchet.scheduled.get/update/delete`` take.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    version: str = ""
    order: int = 0
    workflow_id: str
    scheduled_workflows: list[ScheduledWorkflow] = Field(default_factory=list)


def _what(scheduled_id: str) -> str:
    return f"scheduled run {scheduled_id!r}"


def to_utc_timestamp(when: datetime) -> float:
    """Epoch seconds of ``when``; a naive datetime is taken as UTC (with a warning)."""
    if not isinstance(when, datetime):
        raise TypeError(f"trigger time must be a datetime, got {type(when).__name__}")
    if when.tzinfo is None or when.utcoffset() is None:
        log.warning("Timezone-naive datetime provided for schedule. Assuming UTC timezone.")
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


class ScheduledClient(FeatureClient):
    """Hatchet's ``ScheduledClient`` over the Redis schedule store."""

    # --- shapes ---------------------------------------------------------------------------
    def _run_statuses(self, rows: list[Scheduled]) -> dict[str, tuple[str, float]]:
        """Status and creation time of the runs that scheduled runs created."""
        fired = [s.run_id for s in rows if s.run_id]
        if not fired:
            return {}
        engine = self._engine
        pipe = engine.store.redis.pipeline(transaction=False)
        for run_id in fired:
            pipe.hmget(engine.keys.run(run_id), ["st", "ct"])
        out: dict[str, tuple[str, float]] = {}
        for run_id, (status, created) in zip(fired, pipe.execute(), strict=True):
            if status:
                out[run_id] = (status, float(created or 0))
        return out

    def _status(self, row: Scheduled, runs: dict[str, tuple[str, float]]) -> ScheduledRunStatus:
        if row.run_id is None:
            return ScheduledRunStatus.SCHEDULED
        run = runs.get(row.run_id)
        if run is None:
            return ScheduledRunStatus.PENDING
        return ScheduledRunStatus(_RUN_STATUS[run[0]].value if run[0] in _RUN_STATUS else "PENDING")

    def _to_rest(self, row: Scheduled, runs: dict[str, tuple[str, float]]) -> ScheduledWorkflows:
        run = runs.get(row.run_id or "")
        # The run id is recorded just before the run is created: show it once the run exists
        # (or existed: ``fired_at``), so a caller can always wait on the id it is given.
        run_id = row.run_id if run is not None or row.fired_at is not None else None
        return ScheduledWorkflows.model_validate(
            {
                **_triggers.rest_fields(self._registry, row),
                "trigger_at": utc(row.trigger_at),
                "workflow_run_created_at": utc(run[1]) if run else None,
                "workflow_run_name": row.workflow_name if run_id else None,
                "workflow_run_status": _RUN_STATUS.get(run[0]) if run else None,
                "workflow_run_id": run_id,
            }
        )

    def _one(self, scheduled_id: str) -> ScheduledWorkflows:
        row = _triggers.found(schedules.load(self._engine, str(scheduled_id)), _what(scheduled_id))
        return self._to_rest(row, self._run_statuses([row]))

    # --- the API ----------------------------------------------------------------------------
    def create(
        self,
        workflow_name: str,
        trigger_at: datetime,
        input: dict[str, Any],
        additional_metadata: dict[str, Any],
        *,
        priority: int | None = None,
    ) -> ScheduledWorkflows:
        """Run ``workflow_name`` at ``trigger_at`` (UTC) with this input and metadata.

        ``priority`` (1..3) is an addition to Hatchet's signature, used by
        ``wf.schedule(priority=...)``.
        """
        name = self._registry.config.apply_namespace(workflow_name)
        at = to_utc_timestamp(trigger_at)
        _triggers.check_workflow(self._registry, name, "run scheduled")
        if priority is not None and not 1 <= int(priority) <= 3:
            raise ValueError(f"schedule of {name!r}: priority must be 1, 2 or 3, got {priority!r}")
        row = schedules.create(
            self._engine,
            name,
            at,
            dict(input or {}),
            dict(additional_metadata or {}),
            priority,
            time.time(),
        )
        return self._to_rest(row, {})

    aio_create = aio_twin(create)

    def update(self, scheduled_id: str, trigger_at: datetime) -> ScheduledWorkflows:
        """Move a scheduled run that has not fired yet."""
        outcome = schedules.update(
            self._engine, str(scheduled_id), to_utc_timestamp(trigger_at), time.time()
        )
        _triggers.removed(outcome != 0, _what(scheduled_id))  # 0: no such scheduled run
        if outcome == 2:
            raise ValueError(f"scheduled run {scheduled_id!r} already fired; it cannot move")
        return self._one(scheduled_id)

    aio_update = aio_twin(update)

    def delete(self, scheduled_id: str) -> None:
        _triggers.removed(schedules.delete(self._engine, str(scheduled_id)), _what(scheduled_id))

    aio_delete = aio_twin(delete)

    def get(self, scheduled_id: str) -> ScheduledWorkflows:
        return self._one(scheduled_id)

    aio_get = aio_twin(get)

    def _matching(
        self, query: ScheduledQuery | ScheduledBulkDelete, statuses: Statuses | None
    ) -> tuple[Rows, dict[str, tuple[str, float]]]:
        rows = schedules.load_all(self._engine)
        step = query.parent_step_run_id if isinstance(query, ScheduledBulkDelete) else None
        if query.parent_workflow_run_id is not None or step is not None:
            rows = []  # scheduled runs here are never children of a run
        workflow_id = query.workflow_id
        wanted_id = self._registry.config.apply_namespace(workflow_id) if workflow_id else None
        rows = [
            r
            for r in rows
            if (wanted_id is None or crons.workflow_id(r.workflow_name) == wanted_id)
            and _triggers.metadata_matches(r.additional_metadata, query.additional_metadata)
        ]
        runs = self._run_statuses(rows)
        if statuses:
            wanted = {ScheduledRunStatus(s) for s in statuses}
            rows = [r for r in rows if self._status(r, runs) in wanted]
        return rows, runs

    @takes(ScheduledQuery)
    def list(self, query: ScheduledQuery) -> ScheduledWorkflowsList:
        """Scheduled runs matching every filter (a workflow's id is its namespaced name)."""
        rows, runs = self._matching(query, query.statuses)
        by_created = query.order_by_field == ScheduledWorkflowsOrderByField.CREATEDAT
        rows.sort(
            key=lambda r: (r.created_at if by_created else r.trigger_at, r.id),
            reverse=query.order_by_direction == WorkflowRunOrderByDirection.DESC,
        )
        selected, pagination = query.page(rows)
        return ScheduledWorkflowsList(
            rows=[self._to_rest(r, runs) for r in selected], pagination=pagination
        )

    aio_list = aio_twin(list)

    @takes(ScheduledBulkDelete)
    def bulk_delete(self, query: ScheduledBulkDelete) -> ScheduledWorkflowsBulkDeleteResponse:
        """Delete the listed ids, or every scheduled run matching the filters.

        As in Hatchet, ``statuses`` alone is not a filter and is ignored (with a warning).
        """
        if query.statuses:
            log.warning("The 'statuses' filter is not supported for bulk delete and is ignored.")
        filters = (
            query.workflow_id,
            query.parent_workflow_run_id,
            query.parent_step_run_id,
            query.additional_metadata,
        )
        has_filter = any(v is not None for v in filters)
        scheduled_ids = query.scheduled_ids
        if not scheduled_ids and not has_filter:
            raise ValueError(
                "bulk_delete requires either scheduled_ids or at least one filter field."
            )
        ids: Ids = [*(scheduled_ids or [])]
        if has_filter:
            matched = {r.id for r in self._matching(query, None)[0]}
            ids = [i for i in ids if i in matched] if scheduled_ids else sorted(matched)
        response = ScheduledWorkflowsBulkDeleteResponse()
        for scheduled_id in ids:
            if schedules.delete(self._engine, str(scheduled_id)):
                response.deleted_ids.append(scheduled_id)
            else:
                response.errors.append(
                    ScheduledWorkflowsBulkError(id=scheduled_id, error="scheduled run not found")
                )
        return response

    aio_bulk_delete = aio_twin(bulk_delete)

    def bulk_update(
        self,
        updates: Updates,
    ) -> ScheduledWorkflowsBulkUpdateResponse:
        """Move several scheduled runs; each is moved or reported in ``errors``."""
        response = ScheduledWorkflowsBulkUpdateResponse()
        now = time.time()
        for update in updates:
            if isinstance(update, ScheduledWorkflowsBulkUpdateItem):
                scheduled_id, when = update.id, update.trigger_at
            else:
                scheduled_id, when = update
            outcome = schedules.update(self._engine, scheduled_id, to_utc_timestamp(when), now)
            if outcome == 1:
                response.updated_ids.append(scheduled_id)
            else:
                reason = "scheduled run not found" if outcome == 0 else "already fired"
                response.errors.append(ScheduledWorkflowsBulkError(id=scheduled_id, error=reason))
        return response

    aio_bulk_update = aio_twin(bulk_update)

    # --- what ``wf.schedule()`` calls -------------------------------------------------------
    @parameters(create)
    def schedule_version(self, row: ScheduledWorkflows) -> WorkflowVersion:
        """``create``, answered as Hatchet's gRPC call answers ``wf.schedule()``."""
        return WorkflowVersion(
            id=row.metadata.id,
            created_at=row.metadata.created_at,
            updated_at=row.metadata.updated_at,
            workflow_id=row.workflow_id,
            scheduled_workflows=[ScheduledWorkflow(id=row.metadata.id, trigger_at=row.trigger_at)],
        )


__all__ = ["ScheduledClient", "ScheduledWorkflow", "WorkflowVersion"]
