"""Sort direction of ``hatchet.rate_limits.list``."""

from enum import Enum


class RateLimitOrderByDirection(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Ascending or descending."""

    ASC = "asc"
    DESC = "desc"
