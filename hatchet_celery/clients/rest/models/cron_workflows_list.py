"""A page of cron triggers."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.cron_workflows import CronWorkflows
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse


class CronWorkflowsList(RestModel):
    """Result of ``hatchet.cron.list``."""

    rows: list[CronWorkflows] | None = None
    pagination: PaginationResponse | None = None
