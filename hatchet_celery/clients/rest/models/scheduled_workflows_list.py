"""A page of scheduled runs."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.scheduled_workflows import ScheduledWorkflows


class ScheduledWorkflowsList(RestModel):
    """Result of ``hatchet.scheduled.list``."""

    rows: list[ScheduledWorkflows] | None = None
    pagination: PaginationResponse | None = None
