"""``hatchet.filters``: CEL filters deciding which scoped events trigger a workflow.

A workflow with no filter runs for every event on its keys; with filters, an event runs
it once per filter whose scope equals the event's scope and whose expression is true
(see ``_runtime/waits/events.py``). Declarative ``default_filters`` are written by the workers
that serve the workflow and listed here with ``is_declarative=True``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hatchet_celery._cel import compile_cel
from hatchet_celery._runtime.timing.crons import workflow_id as derived_id
from hatchet_celery._runtime.waits.events import FILTER_CEL_VARIABLES, filter_record
from hatchet_celery.clients.rest.models.v1_filter import V1Filter
from hatchet_celery.clients.rest.models.v1_filter_list import V1FilterList
from hatchet_celery.clients.rest.models.v1_update_filter_request import V1UpdateFilterRequest
from hatchet_celery.exceptions import WorkflowNotFoundError
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient, resource_meta
from hatchet_celery.features._query import LimitOffset, takes


def update_record(
    engine: Any, filter_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """Apply ``change`` to a filter record with check-and-set (``filter_swap.lua``): read,
    change, write only if nobody wrote it meanwhile, else again from the new record. Two
    updates both land; an update racing a delete finds the filter gone."""
    key = engine.keys.event_filters
    while True:
        raw = engine.store.redis.hget(key, filter_id)
        if raw is None:
            raise ValueError(f"filter {filter_id!r} not found")
        record = change(json.loads(raw))
        swapped = int(
            engine.store.script("filter_swap", [key], [filter_id, raw, json.dumps(record)])
        )
        if swapped == 1:
            return record
        if swapped == -1:
            raise ValueError(f"filter {filter_id!r} not found (deleted meanwhile)")


class FilterQuery(LimitOffset):
    """The filters of ``hatchet.filters.list``, in Hatchet's order."""

    workflow_ids: list[str] | None = None
    scopes: list[str] | None = None


class FiltersClient(FeatureClient):
    """Hatchet's ``FiltersClient`` over the Redis filter store."""

    def _workflow_name(self, workflow_id: str) -> str:
        """A workflow's name from its id (or its name), among those declared or registered."""
        engine = self._engine
        redis = engine.store.redis
        names = set(self._registry.workflows) | {
            str(n)
            for n in (
                *redis.hkeys(engine.keys.workflows),
                *redis.hkeys(engine.keys.event_subscriptions),
            )
        }
        namespaced = self._registry.config.apply_namespace(workflow_id)
        for name in names:
            if workflow_id in (name, derived_id(name)) or namespaced == name:
                return name
        raise WorkflowNotFoundError(
            f"no workflow with id or name {workflow_id!r} is declared here or served by a worker"
        )

    def _v1(self, record: dict[str, Any]) -> V1Filter:
        created = record["created_at"]
        return V1Filter(
            metadata=resource_meta(record["id"], created, record.get("updated_at", created)),
            tenant_id=self._tenant_id,
            workflow_id=record["workflow_id"],
            scope=record["scope"],
            expression=record["expression"],
            payload=record.get("payload") or {},
            is_declarative=bool(record.get("declarative")),
        )

    def _load(self, filter_id: str) -> dict[str, Any]:
        engine = self._engine
        raw = engine.store.redis.hget(engine.keys.event_filters, filter_id)
        if raw is None:
            raise ValueError(f"filter {filter_id!r} not found")
        record: dict[str, Any] = json.loads(raw)
        return record

    def create(
        self,
        workflow_id: str,
        expression: str,
        scope: str,
        payload: dict[str, Any] | None = None,
    ) -> V1Filter:
        """A filter on ``workflow_id`` (its id or name); a bad expression fails here."""
        compile_cel(expression, what="filter expression", variables=FILTER_CEL_VARIABLES)
        name = self._workflow_name(workflow_id)
        record = filter_record(
            str(uuid.uuid4()), name, expression, scope, dict(payload or {}), declarative=False
        )
        engine = self._engine
        engine.store.redis.hset(engine.keys.event_filters, record["id"], json.dumps(record))
        return self._v1(record)

    aio_create = aio_twin(create)

    def get(self, filter_id: str) -> V1Filter:
        return self._v1(self._load(filter_id))

    aio_get = aio_twin(get)

    @takes(FilterQuery)
    def list(self, query: FilterQuery) -> V1FilterList:
        """Filters newest first, optionally only those of some workflows (ids or names) or
        scopes."""
        engine = self._engine
        records = [json.loads(v) for v in engine.store.redis.hvals(engine.keys.event_filters)]
        if query.workflow_ids is not None:
            wanted = set(query.workflow_ids)
            records = [r for r in records if r["workflow_id"] in wanted or r["workflow"] in wanted]
        if query.scopes is not None:
            records = [r for r in records if r["scope"] in query.scopes]
        records.sort(key=lambda r: r["created_at"], reverse=True)
        rows, pagination = query.page(records, default_limit=None)
        return V1FilterList(pagination=pagination, rows=[self._v1(r) for r in rows])

    aio_list = aio_twin(list)

    def update(self, filter_id: str, updates: V1UpdateFilterRequest) -> V1Filter:
        if updates.expression is not None:
            compile_cel(
                updates.expression, what="filter expression", variables=FILTER_CEL_VARIABLES
            )

        def change(record: dict[str, Any]) -> dict[str, Any]:
            if updates.expression is not None:
                record["expression"] = updates.expression
            if updates.scope is not None:
                record["scope"] = updates.scope
            if updates.payload is not None:
                record["payload"] = dict(updates.payload)
            record["updated_at"] = datetime.now(UTC).timestamp()
            return record

        return self._v1(update_record(self._engine, filter_id, change))

    aio_update = aio_twin(update)

    def delete(self, filter_id: str) -> V1Filter:
        record = self._load(filter_id)
        engine = self._engine
        engine.store.redis.hdel(engine.keys.event_filters, filter_id)
        return self._v1(record)

    aio_delete = aio_twin(delete)


__all__ = ["FiltersClient"]
