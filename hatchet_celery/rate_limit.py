"""Rate-limit declarations: ``RateLimit`` on a task, windows as ``RateLimitDuration``."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, model_validator


class RateLimitDuration(str, Enum):
    SECOND = "SECOND"
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


DURATION_SECONDS: dict[RateLimitDuration, int] = {
    RateLimitDuration.SECOND: 1,
    RateLimitDuration.MINUTE: 60,
    RateLimitDuration.HOUR: 3600,
    RateLimitDuration.DAY: 86400,
    RateLimitDuration.WEEK: 7 * 86400,
    RateLimitDuration.MONTH: 30 * 86400,
    RateLimitDuration.YEAR: 365 * 86400,
}


class RateLimit(BaseModel):
    """Take ``units`` from the bucket ``static_key`` (or the CEL ``dynamic_key``) to start."""

    static_key: str | None = None
    dynamic_key: str | None = None
    units: str | int = 1
    limit: int | str | None = None
    duration: RateLimitDuration = RateLimitDuration.MINUTE

    @model_validator(mode="after")
    def _check(self) -> RateLimit:
        if self.static_key and self.dynamic_key:
            raise ValueError("RateLimit: give static_key or dynamic_key, not both")
        if not self.static_key and not self.dynamic_key:
            raise ValueError("RateLimit: one of static_key or dynamic_key is required")
        if self.dynamic_key and self.limit is None:
            raise ValueError(f"RateLimit: dynamic_key {self.dynamic_key!r} requires a limit")
        if isinstance(self.units, int) and self.units <= 0:
            raise ValueError("RateLimit: units must be positive")
        if self.limit is None:
            self.limit = -1
        return self


__all__ = ["RateLimit", "RateLimitDuration"]
