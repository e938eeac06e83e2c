"""``hatchet.rate_limits``: create, pause and list the rate-limit buckets in Redis.

The buckets themselves and how tasks take units from them are in
``hatchet_celery._runtime.flow.ratelimits``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hatchet_celery._runtime.flow import ratelimits
from hatchet_celery.clients.rest.models.rate_limit import RateLimit as RateLimitRow
from hatchet_celery.clients.rest.models.rate_limit_list import RateLimitList
from hatchet_celery.clients.rest.models.rate_limit_order_by_direction import (
    RateLimitOrderByDirection,
)
from hatchet_celery.clients.rest.models.rate_limit_order_by_field import RateLimitOrderByField
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient, utc
from hatchet_celery.features._query import OffsetLimit, takes
from hatchet_celery.rate_limit import DURATION_SECONDS, RateLimitDuration

WINDOW_NAMES = {seconds: duration.value for duration, seconds in DURATION_SECONDS.items()}


class RateLimitQuery(OffsetLimit):
    """The filters of ``hatchet.rate_limits.list``, in Hatchet's order."""

    search: str | None = None
    order_by_field: RateLimitOrderByField | None = None
    order_by_direction: RateLimitOrderByDirection | None = None


class RateLimitsClient(FeatureClient):
    """Hatchet's ``RateLimitsClient``: ``put``, ``pause`` and ``list`` (with ``aio_`` twins)."""

    def put(
        self, key: str, limit: int, duration: RateLimitDuration = RateLimitDuration.SECOND
    ) -> None:
        """Create or change the static rate limit ``key``: ``limit`` units per ``duration``."""
        ratelimits.put(self._engine, key, limit, duration)

    aio_put = aio_twin(put)

    def pause(self, key: str, until: datetime) -> datetime:
        """Hold every run that takes ``key`` until ``until`` (naive: UTC); never shortens a
        pause. Returns when the pause ends."""
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        return utc(ratelimits.pause(self._engine, key, until.timestamp()))

    aio_pause = aio_twin(pause)

    @takes(RateLimitQuery)
    def list(self, query: RateLimitQuery) -> RateLimitList:
        """The buckets (static and dynamic keys seen so far), with the units left now."""
        engine = self._engine
        redis = engine.store.redis
        names = [str(k) for k in redis.zrange(engine.keys.rate_limits, 0, -1)]
        if query.search:
            names = [k for k in names if query.search.lower() in k.lower()]
        pipe = redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(engine.keys.rate_limit(name))
        now = engine.now()
        buckets = pipe.execute()
        gone = [name for name, bucket in zip(names, buckets, strict=True) if not bucket]
        if gone:  # idle dynamic keys expire; drop them from the listing index too
            redis.zrem(engine.keys.rate_limits, *gone)
        rows = [
            self._row(name, bucket, now)
            for name, bucket in zip(names, buckets, strict=True)
            if bucket and "limit" in bucket
        ]
        field = RateLimitOrderByField(query.order_by_field or RateLimitOrderByField.KEY)
        attr = {"key": "key", "value": "value", "limitValue": "limit_value"}[field.value]
        descending = query.order_by_direction == RateLimitOrderByDirection.DESC  # or "desc"
        rows.sort(key=lambda r: getattr(r, attr), reverse=descending)
        rows_page, pagination = query.page(rows)
        return RateLimitList(rows=rows_page, pagination=pagination)

    aio_list = aio_twin(list)

    def _row(self, key: str, bucket: dict[str, Any], now: float) -> RateLimitRow:
        limit = int(bucket["limit"])
        window = float(bucket["window"])
        available, window_start = ratelimits.units_left(bucket, now)
        paused = float(bucket.get("paused", 0))
        return RateLimitRow(
            key=key,
            tenant_id=self._registry.config.namespace,
            limit_value=limit,
            value=available,
            window=WINDOW_NAMES.get(int(window), f"{window:g}s"),
            last_refill=utc(window_start),
            paused_until=utc(paused) if paused > now else None,
        )


__all__ = ["RateLimitsClient"]
