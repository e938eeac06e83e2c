"""A page of rate-limit buckets."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.rate_limit import RateLimit


class RateLimitList(RestModel):
    """Result of ``hatchet.rate_limits.list``."""

    pagination: PaginationResponse | None = None
    rows: list[RateLimit] | None = None
