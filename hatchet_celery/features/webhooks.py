"""``hatchet.webhooks``: incoming webhooks, named endpoints that turn HTTP requests into events.

A webhook is its create request (name, sender, auth, CEL expressions, static payload) kept in
one Redis hash (``Keys.webhooks``), so every process of the deployment sees the same ones.
Requests are received by the package's HTTP server (``hatchet_celery/webhooks/``) at
``{server_url}/api/v1/stable/tenants/{tenant_id}/webhooks/{name}``.

The expressions are compiled when a webhook is created or updated, so a bad one fails there
rather than on the first request. Secrets are stored as given (the receiver needs them to
check signatures): protect the Redis as you protect the runs' inputs.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hatchet_celery._twins import arguments
from hatchet_celery.clients.rest.models.v1_create_webhook_request_api_key import (
    V1CreateWebhookRequestAPIKey,
)
from hatchet_celery.clients.rest.models.v1_create_webhook_request_basic_auth import (
    V1CreateWebhookRequestBasicAuth,
)
from hatchet_celery.clients.rest.models.v1_create_webhook_request_hmac import (
    V1CreateWebhookRequestHMAC,
)
from hatchet_celery.clients.rest.models.v1_webhook import V1Webhook
from hatchet_celery.clients.rest.models.v1_webhook_api_key_auth import V1WebhookAPIKeyAuth
from hatchet_celery.clients.rest.models.v1_webhook_basic_auth import V1WebhookBasicAuth
from hatchet_celery.clients.rest.models.v1_webhook_hmac_auth import V1WebhookHMACAuth
from hatchet_celery.clients.rest.models.v1_webhook_list import V1WebhookList
from hatchet_celery.clients.rest.models.v1_webhook_source_name import V1WebhookSourceName
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient, resource_meta
from hatchet_celery.features._query import LimitOffset, takes
from hatchet_celery.webhooks.definition import (
    SIGNED_SOURCES,
    StoredWebhook,
    WebhookNotFoundError,
    check_expressions,
)
from hatchet_celery.webhooks.local import LocalReceiver, ensure_receiver

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry

_REQUEST_KIND = {
    V1WebhookBasicAuth: V1CreateWebhookRequestBasicAuth,
    V1WebhookAPIKeyAuth: V1CreateWebhookRequestAPIKey,
    V1WebhookHMACAuth: V1CreateWebhookRequestHMAC,
}


class WebhookQuery(LimitOffset):
    """The filters of ``hatchet.webhooks.list``, in Hatchet's order."""

    webhook_names: list[str] | None = None
    source_names: list[V1WebhookSourceName] | None = None


class WebhooksClient(FeatureClient):
    """Hatchet's ``WebhooksClient`` over the Redis webhook store."""

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        self._receiver: LocalReceiver | None = None  # see ``webhooks/local.py``
        self._receiver_lock = threading.Lock()

    def _redis_and_key(self) -> tuple[Any, str]:
        engine = self._engine
        return engine.store.redis, engine.keys.webhooks

    def load(self, webhook_name: str) -> StoredWebhook:
        """The stored webhook (with its secrets), for the receiver."""
        redis, key = self._redis_and_key()
        raw = redis.hget(key, webhook_name)
        if raw is None:
            raise WebhookNotFoundError(f"webhook {webhook_name!r} not found")
        return StoredWebhook.from_json(raw)

    def _save(self, stored: StoredWebhook, *, new: bool) -> None:
        redis, key = self._redis_and_key()
        if new:
            if not redis.hsetnx(key, stored.request.name, stored.to_json()):
                raise ValueError(f"webhook {stored.request.name!r} already exists")
        else:
            redis.hset(key, stored.request.name, stored.to_json())

    def _v1(self, stored: StoredWebhook) -> V1Webhook:
        """The REST row: the create request's fields but its secrets, with an id and times."""
        ns = self._registry.config.namespace
        name = stored.request.name
        webhook_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hatchet-celery:webhook:{ns}:{name}"))
        return V1Webhook.model_validate(
            {
                **stored.request.model_dump(exclude={"auth"}),
                "metadata": resource_meta(webhook_id, stored.created_at, stored.updated_at),
                "tenant_id": self._tenant_id,
            }
        )

    def create(
        self,
        source_name: V1WebhookSourceName,
        name: str,
        event_key_expression: str,
        auth: V1WebhookBasicAuth | V1WebhookAPIKeyAuth | V1WebhookHMACAuth,
        scope_expression: str | None = None,
        static_payload: dict[str, Any] | None = None,
        return_event_as_response_payload: bool = True,
    ) -> V1Webhook:
        """A new webhook; requests to it become events keyed by ``event_key_expression``.

        When ``server_url`` is a loopback address where nothing listens yet, this process
        starts serving the receiver there (see ``hatchet_celery.webhooks.local``).
        """
        given = arguments(locals())
        if not name or "/" in name:
            raise ValueError(f"a webhook name must be non-empty and contain no '/': {name!r}")
        source = V1WebhookSourceName(source_name)
        if source in SIGNED_SOURCES and not isinstance(auth, V1WebhookHMACAuth):
            raise ValueError(
                f"webhook {name!r}: {source.value} requests are checked with a signing "
                "secret; pass auth=V1WebhookHMACAuth(...)"
            )
        request = _REQUEST_KIND[type(auth)](**{**given, "source_name": source})
        check_expressions(request)
        now = datetime.now(UTC).timestamp()
        stored = StoredWebhook(request, now, now)
        self._save(stored, new=True)
        with self._receiver_lock:
            self._receiver = ensure_receiver(self._registry, self._receiver)
        return self._v1(stored)

    @takes(WebhookQuery)
    def list(self, query: WebhookQuery) -> V1WebhookList:
        """Webhooks newest first, optionally only those named or from the given senders."""
        redis, key = self._redis_and_key()
        found = [StoredWebhook.from_json(raw) for raw in redis.hvals(key)]
        if query.webhook_names is not None:
            found = [w for w in found if w.request.name in query.webhook_names]
        if query.source_names is not None:
            sources = {V1WebhookSourceName(s) for s in query.source_names}
            found = [w for w in found if w.request.source_name in sources]
        found.sort(key=lambda w: w.created_at, reverse=True)
        rows, pagination = query.page(found, default_limit=None)
        return V1WebhookList(pagination=pagination, rows=[self._v1(w) for w in rows])

    def get(self, webhook_name: str) -> V1Webhook:
        """One webhook by name (``WebhookNotFoundError``, a ``ValueError``, when unknown)."""
        return self._v1(self.load(webhook_name))

    def update(
        self,
        webhook_name: str,
        event_key_expression: str | None = None,
        scope_expression: str | None = None,
        static_payload: dict[str, Any] | None = None,
        return_event_as_response_payload: bool | None = None,
    ) -> V1Webhook:
        """Change the given fields (``None`` keeps the current value; auth cannot change)."""
        changes = arguments(locals())
        stored = self.load(changes.pop("webhook_name"))
        request = stored.request.model_copy(
            update={k: v for k, v in changes.items() if v is not None}
        )
        check_expressions(request)
        updated = StoredWebhook(request, stored.created_at, datetime.now(UTC).timestamp())
        self._save(updated, new=False)
        return self._v1(updated)

    def delete(self, webhook_name: str) -> V1Webhook:
        """Remove a webhook; requests to it are answered 404 from then on."""
        stored = self.load(webhook_name)
        redis, key = self._redis_and_key()
        redis.hdel(key, webhook_name)
        return self._v1(stored)

    aio_create = aio_twin(create)
    aio_list = aio_twin(list)
    aio_get = aio_twin(get)
    aio_update = aio_twin(update)
    aio_delete = aio_twin(delete)


__all__ = ["WebhookNotFoundError", "WebhooksClient"]
