"""A page of workers."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.worker import Worker


class WorkerList(RestModel):
    """Result of ``hatchet.workers.list``."""

    pagination: PaginationResponse | None = None
    rows: list[Worker] | None = None
