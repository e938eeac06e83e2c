"""What a webhook is once stored: its create request, its times, and the checks on it.

Shared by ``hatchet.webhooks`` (``features/webhooks.py``, which writes them) and the receiver
(``ingest.py``, which reads them), so neither imports the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import TypeAdapter

from hatchet_celery._cel import compile_cel
from hatchet_celery.clients.rest.models.v1_create_webhook_request import AnyCreateWebhookRequest
from hatchet_celery.clients.rest.models.v1_webhook_source_name import V1WebhookSourceName
from hatchet_celery.exceptions import HatchetCeleryError

WEBHOOK_CEL_VARIABLES = ("input", "headers")
# Senders with a signature scheme of their own, checked with the webhook's HMAC secret.
SIGNED_SOURCES = frozenset(
    {V1WebhookSourceName.STRIPE, V1WebhookSourceName.SLACK, V1WebhookSourceName.SVIX}
)
_REQUEST: TypeAdapter[AnyCreateWebhookRequest] = TypeAdapter(AnyCreateWebhookRequest)


class WebhookNotFoundError(HatchetCeleryError, ValueError):
    """No webhook of that name (a ``ValueError``, as the other feature clients' lookups)."""


@dataclass(frozen=True)
class StoredWebhook:
    """A webhook as kept in Redis: its create request (with the secrets) and its times."""

    request: AnyCreateWebhookRequest
    created_at: float
    updated_at: float

    def to_json(self) -> str:
        return json.dumps(
            {
                "request": self.request.model_dump(mode="json", by_alias=True),
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> StoredWebhook:
        doc = json.loads(raw)
        return cls(_REQUEST.validate_python(doc["request"]), doc["created_at"], doc["updated_at"])


def check_expressions(request: AnyCreateWebhookRequest) -> None:
    """Compile the webhook's CEL expressions (``CelCompileError`` naming the bad one)."""
    what = f"webhook {request.name!r}"
    compile_cel(
        request.event_key_expression,
        what=f"event key expression of {what}",
        variables=WEBHOOK_CEL_VARIABLES,
    )
    if request.scope_expression:
        compile_cel(
            request.scope_expression,
            what=f"scope expression of {what}",
            variables=WEBHOOK_CEL_VARIABLES,
        )


__all__ = [
    "SIGNED_SOURCES",
    "WEBHOOK_CEL_VARIABLES",
    "StoredWebhook",
    "WebhookNotFoundError",
    "check_expressions",
]
