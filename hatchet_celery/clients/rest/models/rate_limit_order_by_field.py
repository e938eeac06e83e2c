"""Fields ``hatchet.rate_limits.list`` can sort by."""

from enum import Enum


class RateLimitOrderByField(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Sort rate limits by key, current value or limit."""

    KEY = "key"
    VALUE = "value"
    LIMITVALUE = "limitValue"
