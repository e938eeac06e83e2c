"""A cron trigger of a workflow."""

from typing import Any

from hatchet_celery.clients.rest.models._trigger import WorkflowTrigger
from hatchet_celery.clients.rest.models.cron_workflows_method import CronWorkflowsMethod

__all__ = ["CronWorkflows", "CronWorkflowsMethod"]


class CronWorkflows(WorkflowTrigger):
    """A cron trigger (``metadata.id`` is the cron id, ``cron`` its expression)."""

    cron: str
    name: str | None = None
    input: dict[str, Any] | None = None
    additional_metadata: dict[str, Any] | None = None
    enabled: bool = True
    method: CronWorkflowsMethod
    priority: int | None = None
