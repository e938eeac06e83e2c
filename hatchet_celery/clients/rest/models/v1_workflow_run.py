"""A workflow run (or standalone task run) as a whole."""

from datetime import datetime
from typing import Any

from pydantic import Field

from hatchet_celery.clients.rest.models.api_resource_meta import Resource
from hatchet_celery.clients.rest.models.v1_task_status import V1TaskStatus


class V1WorkflowRun(Resource):
    """The ``run`` part of ``V1WorkflowRunDetails`` (``metadata.id`` is the run id)."""

    status: V1TaskStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: int | None = None
    tenant_id: str = ""
    additional_metadata: dict[str, Any] | None = None
    display_name: str
    workflow_id: str
    output: dict[str, Any] = Field(default_factory=dict)
    error_message: str | None = None
    workflow_version_id: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None
    parent_task_external_id: str | None = None
    payloads_restricted: bool | None = None
