"""A workflow version (REST shape of ``hatchet.workflows.get_version``)."""

from typing import Any

from hatchet_celery.clients.rest.models.api_resource_meta import Resource
from hatchet_celery.clients.rest.models.workflow import Workflow


class WorkflowVersion(Resource):
    """The current declaration of a workflow: one version per workflow here (the latest
    one a process declared or a worker registered)."""

    version: str
    order: int
    workflow_id: str
    sticky: str | None = None
    default_priority: int | None = None
    workflow: Workflow | None = None
    schedule_timeout: str | None = None
    input_json_schema: dict[str, Any] | None = None


__all__ = ["WorkflowVersion"]
