"""A page of events."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.v1_event import V1Event


class V1EventList(RestModel):
    """Result of ``hatchet.event.list``."""

    pagination: PaginationResponse | None = None
    rows: list[V1Event] | None = None
