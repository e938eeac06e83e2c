"""Event models at Hatchet's ``clients.events`` path: what ``hatchet.event.push`` takes
and returns."""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from hatchet_celery.runnables.types import Priority


def _deprecated_namespace(value: str | None) -> str | None:
    if value:
        warnings.warn(
            "the namespace option is deprecated: set it on the ClientConfig",
            DeprecationWarning,
            stacklevel=3,
        )
    return value


class PushEventOptions(BaseModel):
    """Options of ``push`` (deprecated there in favour of keywords)."""

    additional_metadata: dict[str, Any] = Field(default_factory=dict)
    namespace: str | None = None
    priority: int | Priority | None = None
    scope: str | None = None

    _check_namespace = field_validator("namespace", mode="before")(
        classmethod(lambda cls, v: _deprecated_namespace(v))
    )


class BulkPushEventWithMetadata(BaseModel):
    """One event of ``bulk_push``."""

    key: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
    additional_metadata: dict[str, Any] = Field(default_factory=dict)
    priority: int | Priority | None = None
    scope: str | None = None


class BulkPushEventOptions(BulkPushEventWithMetadata):
    """Options of ``bulk_push``; only ``namespace`` (deprecated) is read."""

    namespace: str | None = None

    _check_namespace = field_validator("namespace", mode="before")(
        classmethod(lambda cls, v: _deprecated_namespace(v))
    )


class Event(BaseModel):
    """A pushed event: ``payload`` and ``additional_metadata`` are JSON text, as in Hatchet."""

    tenant_id: str
    event_id: str
    key: str
    payload: str
    event_timestamp: datetime
    additional_metadata: str | None = None
    scope: str | None = None
    seen_at: datetime

    @property
    def eventTimestamp(self) -> datetime:  # noqa: N802 - Hatchet's alias
        return self.event_timestamp

    @property
    def additionalMetadata(self) -> str | None:  # noqa: N802 - Hatchet's alias
        return self.additional_metadata


__all__ = ["BulkPushEventOptions", "BulkPushEventWithMetadata", "Event", "PushEventOptions"]
