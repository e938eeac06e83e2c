"""A page of task log lines."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.v1_log_line import V1LogLine


class V1LogLineList(RestModel):
    """Result of ``hatchet.logs.list``."""

    pagination: PaginationResponse | None = None
    rows: list[V1LogLine] | None = None
