"""A page of incoming webhooks."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.v1_webhook import V1Webhook


class V1WebhookList(RestModel):
    """Result of ``hatchet.webhooks.list``."""

    pagination: PaginationResponse | None = None
    rows: list[V1Webhook] | None = None
