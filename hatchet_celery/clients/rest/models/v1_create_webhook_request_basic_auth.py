"""A request to create a webhook authenticated by basic auth."""

from typing import Literal

from hatchet_celery.clients.rest.models.v1_create_webhook_request_base import (
    V1CreateWebhookRequestBase,
)
from hatchet_celery.clients.rest.models.v1_webhook_basic_auth import V1WebhookBasicAuth


class V1CreateWebhookRequestBasicAuth(V1CreateWebhookRequestBase):
    """``auth_type`` ``BASIC``."""

    auth_type: Literal["BASIC"] = "BASIC"
    auth: V1WebhookBasicAuth
