"""API-key auth of a webhook."""

from hatchet_celery.clients.rest.models._base import RestModel


class V1WebhookAPIKeyAuth(RestModel):
    """The sender must send header ``header_name`` with the value ``api_key``."""

    header_name: str
    api_key: str
