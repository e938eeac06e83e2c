"""Status of a span in Hatchet's trace view."""

from enum import Enum


class OtelStatusCode(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """The status of an ``OtelSpan``."""

    UNSET = "UNSET"
    OK = "OK"
    ERROR = "ERROR"
