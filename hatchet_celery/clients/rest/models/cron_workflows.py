"""A cron trigger of a workflow."""

from typing import Any

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta
from hatchet_celery.clients.rest.models.cron_workflows_method import CronWorkflowsMethod

__all__ = ["CronWorkflows", "CronWorkflowsMethod"]


class CronWorkflows(RestModel):
    """A cron trigger (``metadata.id`` is the cron id, ``cron`` its expression)."""

    metadata: APIResourceMeta
    tenant_id: str = ""
    workflow_version_id: str = ""
    workflow_id: str
    workflow_name: str
    cron: str
    name: str | None = None
    input: dict[str, Any] | None = None
    additional_metadata: dict[str, Any] | None = None
    enabled: bool = True
    method: CronWorkflowsMethod
    priority: int | None = None
