"""A request to create a webhook authenticated by an HMAC signature."""

from typing import Literal

from hatchet_celery.clients.rest.models.v1_create_webhook_request_base import (
    V1CreateWebhookRequestBase,
)
from hatchet_celery.clients.rest.models.v1_webhook_hmac_auth import V1WebhookHMACAuth


class V1CreateWebhookRequestHMAC(V1CreateWebhookRequestBase):
    """``auth_type`` ``HMAC``."""

    auth_type: Literal["HMAC"] = "HMAC"
    auth: V1WebhookHMACAuth
