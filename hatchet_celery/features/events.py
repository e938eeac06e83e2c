"""``hatchet.event``: push events (which trigger workflows and wake waits), list and get them.

Events are kept in Redis for the retention period (``HATCHET_CELERY_RETENTION_SECONDS``,
at least an hour), which bounds how far back a lookback window can reach.
"""

from __future__ import annotations

import builtins
import json
import warnings
from datetime import UTC, datetime
from typing import Any, cast

from hatchet_celery._runtime.core.run_index import metadata_key
from hatchet_celery._runtime.waits.events import EventIn, push, to_event
from hatchet_celery.clients.events import (
    BulkPushEventOptions,
    BulkPushEventWithMetadata,
    Event,
    PushEventOptions,
)
from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta
from hatchet_celery.clients.rest.models.v1_event import V1Event
from hatchet_celery.clients.rest.models.v1_event_list import V1EventList
from hatchet_celery.clients.rest.models.v1_event_triggered_run import V1EventTriggeredRun
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient
from hatchet_celery.features._query import OffsetLimit, takes
from hatchet_celery.opentelemetry import _hooks as tracing_hooks
from hatchet_celery.runnables.types import Priority

EVENT_ID_KEY = "hatchet__event_id"  # the metadata every run an event triggers carries
# The webhook that received an event, kept in the event's stored metadata (``hatchet__``
# keys are not passed on to runs) and shown as ``V1Event.triggering_webhook_name``.
WEBHOOK_NAME_KEY = "hatchet__triggering_webhook_name"


def _warn_options() -> None:
    warnings.warn(
        "options= is deprecated: pass additional_metadata, priority and scope directly",
        DeprecationWarning,
        stacklevel=3,
    )


def _priority(value: int | Priority | None) -> int | None:
    return int(value) if value is not None else None


class EventQuery(OffsetLimit):
    """The filters of ``hatchet.event.list``, in Hatchet's order."""

    keys: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    workflow_ids: list[str] | None = None
    workflow_run_statuses: list[Any] | None = None
    event_ids: list[str] | None = None
    additional_metadata: dict[str, str] | None = None
    scopes: list[str] | None = None


class EventClient(FeatureClient):
    """Hatchet's ``EventClient`` over the Redis event store."""

    def _key(self, key: str, namespace: str | None = None) -> str:
        return self._registry.config.apply_namespace(key, namespace)

    def push(
        self,
        event_key: str,
        payload: dict[str, Any],
        options: PushEventOptions | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: int | Priority | None = None,
        scope: str | None = None,
    ) -> Event:
        """Push one event: wake the waits it meets and trigger the workflows listening."""
        if options is not None:
            _warn_options()
        opts = options or PushEventOptions()
        metadata = {**opts.additional_metadata, **(additional_metadata or {})}
        event = EventIn(
            key=self._key(event_key, opts.namespace),
            payload=dict(payload or {}),
            metadata=metadata,
            priority=_priority(priority if priority is not None else opts.priority),
            scope=scope if scope is not None else opts.scope,
        )
        # Tracing hook (hatchet_celery.opentelemetry): a no-op unless instrumented.
        with tracing_hooks.TRACING.push_events([event], False) as traced:
            pushed = push(self._registry, traced.items)
            traced.created([e.event_id for e in pushed])
            return pushed[0]

    aio_push = aio_twin(push)

    def bulk_push(
        self,
        events: list[BulkPushEventWithMetadata],
        options: BulkPushEventOptions | None = None,
    ) -> list[Event]:
        """Push many events in one round trip; returns them in order."""
        if options is not None:
            _warn_options()
        namespace = options.namespace if options is not None else None
        items = [
            EventIn(
                key=self._key(e.key, namespace),
                payload=dict(e.payload or {}),
                metadata=dict(e.additional_metadata or {}),
                priority=_priority(e.priority),
                scope=e.scope,
            )
            for e in events
        ]
        if not items:
            return []
        with tracing_hooks.TRACING.push_events(items, True) as traced:
            pushed = push(self._registry, traced.items)
            traced.created([e.event_id for e in pushed])
            return pushed

    aio_bulk_push = aio_twin(bulk_push)

    @takes(EventQuery)
    def list(self, query: EventQuery) -> V1EventList:
        """Events newest first. ``workflow_ids`` and ``workflow_run_statuses`` are ignored."""
        engine = self._engine
        redis = engine.store.redis
        low = query.since.timestamp() if query.since else "-inf"
        high = query.until.timestamp() if query.until else "+inf"
        ids: list[str] = query.event_ids or cast(
            list[str], redis.zrevrangebyscore(engine.keys.events, high, low)
        )
        wanted_keys = {self._key(k) for k in query.keys} if query.keys else None
        scopes, additional_metadata = query.scopes, query.additional_metadata
        rows: list[V1Event] = []
        docs = redis.hmget(engine.keys.event_data, ids) if ids else []
        for raw in docs:
            if raw is None:
                continue
            doc = json.loads(raw)
            if wanted_keys is not None and doc["key"] not in wanted_keys:
                continue
            if scopes is not None and doc.get("scope") not in scopes:
                continue
            meta = doc.get("metadata") or {}
            if additional_metadata and any(
                str(meta.get(k)) != str(v) for k, v in additional_metadata.items()
            ):
                continue
            rows.append(self._v1(doc))
        selected, pagination = query.page(rows, default_limit=None)
        return V1EventList(pagination=pagination, rows=self._with_runs(selected))

    aio_list = aio_twin(list)

    def get(self, event_id: str) -> V1Event:
        """One event by id (``ValueError`` when unknown or expired)."""
        engine = self._engine
        raw = engine.store.redis.hget(engine.keys.event_data, event_id)
        if raw is None:
            raise ValueError(f"event {event_id!r} not found (unknown, or past retention)")
        return self._with_runs([self._v1(json.loads(raw))])[0]

    aio_get = aio_twin(get)

    def _with_runs(self, rows: builtins.list[V1Event]) -> builtins.list[V1Event]:
        """Fill ``triggered_runs``: the runs whose metadata carries the event's id."""
        if not rows:
            return rows
        engine = self._engine
        pipe = engine.store.redis.pipeline(transaction=False)
        for row in rows:
            index = metadata_key(engine.keys, EVENT_ID_KEY, row.metadata.id)
            pipe.zrange(index or "", 0, -1)
        found = pipe.execute()
        return [
            row.model_copy(
                update={"triggered_runs": [V1EventTriggeredRun(workflow_run_id=r) for r in runs]}
            )
            for row, runs in zip(rows, found, strict=True)
        ]

    def _v1(self, doc: dict[str, Any]) -> V1Event:
        ts = datetime.fromtimestamp(float(doc["ts"]), UTC)
        metadata = dict(doc.get("metadata") or {})
        webhook = metadata.pop(WEBHOOK_NAME_KEY, None)
        return V1Event(
            metadata=APIResourceMeta(id=doc["id"], created_at=ts, updated_at=ts),
            key=doc["key"],
            tenant_id=self._tenant_id,
            additional_metadata=metadata,
            payload=doc.get("payload") or {},
            scope=doc.get("scope"),
            seen_at=ts,
            triggering_webhook_name=webhook,
        )

    def _event(self, doc: dict[str, Any]) -> Event:
        return to_event(doc, self._tenant_id)


__all__ = ["EventClient"]
