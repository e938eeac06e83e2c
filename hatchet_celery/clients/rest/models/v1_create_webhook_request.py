"""A request to create a webhook: one of the three auth kinds, told apart by ``authType``."""

from typing import Annotated

from pydantic import Field, RootModel

from hatchet_celery.clients.rest.models.v1_create_webhook_request_api_key import (
    V1CreateWebhookRequestAPIKey,
)
from hatchet_celery.clients.rest.models.v1_create_webhook_request_basic_auth import (
    V1CreateWebhookRequestBasicAuth,
)
from hatchet_celery.clients.rest.models.v1_create_webhook_request_hmac import (
    V1CreateWebhookRequestHMAC,
)

AnyCreateWebhookRequest = Annotated[
    V1CreateWebhookRequestBasicAuth | V1CreateWebhookRequestAPIKey | V1CreateWebhookRequestHMAC,
    Field(discriminator="auth_type"),
]


class V1CreateWebhookRequest(RootModel[AnyCreateWebhookRequest]):
    """``V1CreateWebhookRequest(request)``; the request itself is ``actual_instance``."""

    @property
    def actual_instance(
        self,
    ) -> (
        V1CreateWebhookRequestBasicAuth | V1CreateWebhookRequestAPIKey | V1CreateWebhookRequestHMAC
    ):
        return self.root
