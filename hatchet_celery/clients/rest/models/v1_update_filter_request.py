"""Changes to an event filter."""

from typing import Any

from hatchet_celery.clients.rest.models._base import RestModel


class V1UpdateFilterRequest(RestModel):
    """Argument of ``hatchet.filters.update``; fields left ``None`` are unchanged."""

    expression: str | None = None
    scope: str | None = None
    payload: dict[str, Any] | None = None
