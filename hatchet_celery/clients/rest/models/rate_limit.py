"""The state of one rate-limit key (REST shape; the task option is ``hatchet_celery.RateLimit``)."""

from datetime import datetime

from hatchet_celery.clients.rest.models._base import RestModel


class RateLimit(RestModel):
    """A rate-limit bucket: ``value`` units left of ``limit_value`` per ``window``."""

    key: str
    tenant_id: str = ""
    limit_value: int
    value: int
    window: str
    last_refill: datetime
    paused_until: datetime | None = None
