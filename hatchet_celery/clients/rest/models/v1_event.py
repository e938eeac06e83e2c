"""A pushed event as listed by ``hatchet.event.list``."""

from datetime import datetime
from typing import Any

from pydantic import Field

from hatchet_celery.clients.rest.models.api_resource_meta import Resource
from hatchet_celery.clients.rest.models.v1_event_triggered_run import V1EventTriggeredRun
from hatchet_celery.clients.rest.models.v1_event_workflow_run_summary import (
    V1EventWorkflowRunSummary,
)


class V1Event(Resource):
    """A pushed event (``metadata.id`` is the event id)."""

    key: str
    tenant_id: str = ""
    workflow_run_summary: V1EventWorkflowRunSummary = Field(
        default_factory=V1EventWorkflowRunSummary
    )
    additional_metadata: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    scope: str | None = None
    seen_at: datetime | None = None
    triggered_runs: list[V1EventTriggeredRun] | None = None
    triggering_webhook_name: str | None = None
    payloads_restricted: bool | None = None
