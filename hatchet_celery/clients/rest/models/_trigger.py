"""The fields a cron and a scheduled run share: the workflow they trigger."""

from hatchet_celery.clients.rest.models.api_resource_meta import Resource


class WorkflowTrigger(Resource):
    """Base of ``CronWorkflows`` and ``ScheduledWorkflows`` (Hatchet's field order)."""

    tenant_id: str = ""
    workflow_version_id: str = ""
    workflow_id: str
    workflow_name: str
