"""A request to create a webhook authenticated by an API key header."""

from typing import Literal

from hatchet_celery.clients.rest.models.v1_create_webhook_request_base import (
    V1CreateWebhookRequestBase,
)
from hatchet_celery.clients.rest.models.v1_webhook_api_key_auth import V1WebhookAPIKeyAuth


class V1CreateWebhookRequestAPIKey(V1CreateWebhookRequestBase):
    """``auth_type`` ``API_KEY``."""

    auth_type: Literal["API_KEY"] = "API_KEY"
    auth: V1WebhookAPIKeyAuth
