"""Kind of a span in Hatchet's trace view (OpenTelemetry's ``SpanKind`` names)."""

from enum import Enum


class OtelSpanKind(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """The kind of an ``OtelSpan``."""

    UNSPECIFIED = "UNSPECIFIED"
    INTERNAL = "INTERNAL"
    SERVER = "SERVER"
    CLIENT = "CLIENT"
    PRODUCER = "PRODUCER"
    CONSUMER = "CONSUMER"
