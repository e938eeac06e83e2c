"""Basic-auth credentials of a webhook."""

from hatchet_celery.clients.rest.models._base import RestModel


class V1WebhookBasicAuth(RestModel):
    """The sender must send ``Authorization: Basic`` with these credentials."""

    username: str
    password: str
