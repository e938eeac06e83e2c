"""A page of spans (``OtelSpanList``)."""

from __future__ import annotations

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.otel_span import OtelSpan
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse


class OtelSpanList(RestModel):
    """The spans of a trace, with the retry counts they cover."""

    pagination: PaginationResponse | None = None
    retry_counts: list[int] | None = None
    rows: list[OtelSpan] | None = None


__all__ = ["OtelSpanList"]
