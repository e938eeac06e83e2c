"""What the webhook receiver answers a sender."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.v1_event import V1Event


class V1WebhookResponse(RestModel):
    """``message`` ("ok") and the event created, or the ``challenge`` of a Slack handshake."""

    message: str | None = None
    event: V1Event | None = None
    challenge: str | None = None
