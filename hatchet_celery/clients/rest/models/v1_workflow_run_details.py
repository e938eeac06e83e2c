"""A run with its tasks and their event history (``hatchet.runs.get``)."""

from typing import Any

from pydantic import Field

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.v1_task_event import V1TaskEvent
from hatchet_celery.clients.rest.models.v1_task_summary import V1TaskSummary
from hatchet_celery.clients.rest.models.v1_workflow_run import V1WorkflowRun


class V1WorkflowRunDetails(RestModel):
    """Result of ``hatchet.runs.get``."""

    run: V1WorkflowRun
    task_events: list[V1TaskEvent] = Field(default_factory=list)
    # Hatchet: items with task_external_id, step_id, children_step_ids, task_name.
    shape: list[Any] = Field(default_factory=list)
    tasks: list[V1TaskSummary] = Field(default_factory=list)
    workflow_config: dict[str, Any] | None = None
