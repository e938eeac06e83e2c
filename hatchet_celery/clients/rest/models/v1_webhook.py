"""An incoming webhook, as ``hatchet.webhooks`` returns it (its secrets are never shown)."""

from typing import Any

from hatchet_celery.clients.rest.models.api_resource_meta import Resource
from hatchet_celery.clients.rest.models.v1_webhook_auth_type import V1WebhookAuthType
from hatchet_celery.clients.rest.models.v1_webhook_source_name import V1WebhookSourceName


class V1Webhook(Resource):
    """A named endpoint that turns authenticated HTTP requests into events."""

    tenant_id: str
    name: str
    source_name: V1WebhookSourceName
    event_key_expression: str
    scope_expression: str | None = None
    static_payload: dict[str, Any] | None = None
    auth_type: V1WebhookAuthType
    return_event_as_response_payload: bool | None = None
