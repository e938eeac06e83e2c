"""Changes to an incoming webhook."""

from typing import Any

from hatchet_celery.clients.rest.models._base import RestModel


class V1UpdateWebhookRequest(RestModel):
    """Argument of the webhook update; fields left ``None`` are unchanged (auth cannot change)."""

    event_key_expression: str | None = None
    scope_expression: str | None = None
    static_payload: dict[str, Any] | None = None
    return_event_as_response_payload: bool | None = None
