"""``hatchet.workflows``: the workflows this namespace knows, declared or registered.

A workflow's id is its (namespaced) name: the name is what every run, index and Celery
task carries. Workflows come from this process's declarations and from the shapes that
workers register in Redis (``keys.workflows``), so a process without the code sees them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.workflow import Workflow
from hatchet_celery.clients.rest.models.workflow_list import WorkflowList
from hatchet_celery.exceptions import WorkflowNotFoundError
from hatchet_celery.features._aio import aio_twin

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry

_EPOCH = datetime.fromtimestamp(0, UTC)


def _row(name: str, description: str | None) -> Workflow:
    return Workflow(
        metadata=APIResourceMeta(id=name, created_at=_EPOCH, updated_at=_EPOCH),
        name=name,
        description=description,
        is_paused=False,
    )


class WorkflowsClient:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def _known(self) -> dict[str, Workflow]:
        engine = self._registry.engine()
        found: dict[str, Workflow] = {}
        for key, raw in engine.store.redis.hgetall(engine.keys.workflows).items():
            data: dict[str, Any] = json.loads(raw) if raw else {}
            found[str(key)] = _row(str(key), data.get("description"))
        for name, workflow in self._registry.workflows.items():
            if workflow.tasks:
                found[name] = _row(name, workflow.config.description)
        return found

    def _name(self, workflow_id: str) -> str:
        return self._registry.config.apply_namespace(workflow_id)

    def get(self, workflow_id: str) -> Workflow:
        """The workflow named ``workflow_id`` (its id)."""
        row = self._known().get(self._name(workflow_id))
        if row is None:
            raise WorkflowNotFoundError(f"workflow {workflow_id!r} is not known")
        return row

    def delete(self, workflow_id: str) -> None:
        """Forget a workflow's registration (a worker that serves it registers it again)."""
        engine = self._registry.engine()
        engine.store.redis.hdel(engine.keys.workflows, self._name(workflow_id))

    def list(
        self,
        workflow_name: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> WorkflowList:
        """Known workflows by name; ``workflow_name`` keeps those whose name contains it."""
        rows = sorted(self._known().values(), key=lambda w: w.name)
        if workflow_name:
            needle = self._name(workflow_name).lower()
            rows = [w for w in rows if needle in w.name.lower()]
        start = max(0, offset or 0)
        page = rows[start : start + limit] if limit else rows[start:]
        return WorkflowList(rows=page, pagination=PaginationResponse(current_page=1, num_pages=1))

    aio_get = aio_twin(get)
    aio_delete = aio_twin(delete)
    aio_list = aio_twin(list)


__all__ = ["WorkflowsClient"]
