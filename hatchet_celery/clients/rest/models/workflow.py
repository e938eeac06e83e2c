"""A registered workflow (REST shape; the runnable class is ``runnables.workflow.Workflow``)."""

from hatchet_celery.clients.rest.models.api_resource_meta import Resource
from hatchet_celery.clients.rest.models.workflow_pause_scheduled_cron_run_queue_behavior import (
    WorkflowPauseScheduledCronRunQueueBehavior,
)

_QueueBehavior = WorkflowPauseScheduledCronRunQueueBehavior


class Workflow(Resource):
    """A workflow as listed by ``hatchet.workflows`` (``metadata.id`` is the workflow id)."""

    name: str
    description: str | None = None
    is_paused: bool | None = None
    paused_workflow_cron_run_queue_behavior: _QueueBehavior | None = None
    paused_workflow_scheduled_run_queue_behavior: _QueueBehavior | None = None
    tenant_id: str = ""
