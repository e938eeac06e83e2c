"""A page of event filters."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.v1_filter import V1Filter


class V1FilterList(RestModel):
    """Result of ``hatchet.filters.list``."""

    pagination: PaginationResponse | None = None
    rows: list[V1Filter] | None = None
