"""One task run, as listed by ``hatchet.runs.list`` and returned by ``runs.get``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from hatchet_celery.clients.rest.models.api_resource_meta import Resource
from hatchet_celery.clients.rest.models.v1_task_status import V1TaskStatus
from hatchet_celery.clients.rest.models.v1_workflow_type import V1WorkflowType


class V1TaskSummary(Resource):
    """Summary of a task run (``metadata.id`` is the task run's external id)."""

    action_id: str | None = None
    retry_count: int | None = None
    attempt: int | None = None
    additional_metadata: dict[str, Any] | None = None
    children: list[V1TaskSummary] | None = None
    created_at: datetime
    display_name: str
    duration: int | None = None
    is_durable: bool | None = None
    error_message: str | None = None
    finished_at: datetime | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    num_spawned_children: int = 0
    output: dict[str, Any] | None = None
    status: V1TaskStatus
    is_evicted: bool | None = None
    started_at: datetime | None = None
    step_id: str | None = None
    task_external_id: str
    task_id: int = 0
    task_inserted_at: datetime | None = None
    tenant_id: str = ""
    type: V1WorkflowType | None = None
    workflow_id: str
    workflow_name: str | None = None
    workflow_run_external_id: str
    workflow_version_id: str | None = None
    workflow_config: dict[str, Any] | None = None
    parent_task_external_id: str | None = None
    idempotency_key: str | None = None
    payloads_restricted: bool | None = None
