"""One span of a trace, in the shape of Hatchet's REST API (``OtelSpan``)."""

from __future__ import annotations

from datetime import datetime

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.otel_span_kind import OtelSpanKind
from hatchet_celery.clients.rest.models.otel_status_code import OtelStatusCode


class OtelSpan(RestModel):
    """A span: ids as hex text, attributes as text, timing in nanoseconds."""

    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    span_name: str
    span_kind: OtelSpanKind
    service_name: str
    status_code: OtelStatusCode
    status_message: str | None = None
    duration_ns: int
    created_at: datetime
    resource_attributes: dict[str, str] | None = None
    span_attributes: dict[str, str] | None = None
    scope_name: str | None = None
    scope_version: str | None = None
    retry_count: int


__all__ = ["OtelSpan"]
