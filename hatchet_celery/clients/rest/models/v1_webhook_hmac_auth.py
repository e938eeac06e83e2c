"""HMAC-signature auth of a webhook."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.v1_webhook_hmac_algorithm import V1WebhookHMACAlgorithm
from hatchet_celery.clients.rest.models.v1_webhook_hmac_encoding import V1WebhookHMACEncoding


class V1WebhookHMACAuth(RestModel):
    """The sender signs the raw body with ``signing_secret`` and sends the signature in
    header ``signature_header_name``, written in ``encoding``."""

    algorithm: V1WebhookHMACAlgorithm
    encoding: V1WebhookHMACEncoding
    signature_header_name: str
    signing_secret: str
