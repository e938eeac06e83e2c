"""A run scheduled for a point in time."""

from datetime import datetime
from typing import Any

from hatchet_celery.clients.rest.models._trigger import WorkflowTrigger
from hatchet_celery.clients.rest.models.scheduled_workflows_method import (
    ScheduledWorkflowsMethod,
)
from hatchet_celery.clients.rest.models.workflow_run_status import WorkflowRunStatus


class ScheduledWorkflows(WorkflowTrigger):
    """A scheduled run (``metadata.id`` is the schedule id; ``workflow_run_*`` once it fired)."""

    trigger_at: datetime
    input: dict[str, Any] | None = None
    additional_metadata: dict[str, Any] | None = None
    workflow_run_created_at: datetime | None = None
    workflow_run_name: str | None = None
    workflow_run_status: WorkflowRunStatus | None = None
    workflow_run_id: str | None = None
    method: ScheduledWorkflowsMethod
    priority: int | None = None
