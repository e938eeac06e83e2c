"""The fields every webhook-creation request has, whatever its auth."""

from typing import Any

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.v1_webhook_source_name import V1WebhookSourceName


class V1CreateWebhookRequestBase(RestModel):
    """Name, sender, the CEL expressions (over ``input`` and ``headers``) and the payload
    merged into every event."""

    source_name: V1WebhookSourceName
    name: str
    event_key_expression: str
    scope_expression: str | None = None
    static_payload: dict[str, Any] | None = None
    return_event_as_response_payload: bool | None = None
