"""``hatchet.workflows``: the workflows this namespace knows, declared or registered.

A workflow's id is its (namespaced) name: the name is what every run, index and Celery
task carries. Workflows come from this process's declarations and from the shapes that
workers register in Redis (``keys.workflows``), so a process without the code sees them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from hatchet_celery._runtime.flow import pause as pausing
from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta
from hatchet_celery.clients.rest.models.workflow import Workflow
from hatchet_celery.clients.rest.models.workflow_list import WorkflowList
from hatchet_celery.clients.rest.models.workflow_version import WorkflowVersion
from hatchet_celery.exceptions import WorkflowNotFoundError
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient
from hatchet_celery.features._query import Query, takes
from hatchet_celery.runnables.types import EmptyModel

_EPOCH = datetime.fromtimestamp(0, UTC)


def _row(name: str, description: str | None, paused: bool = False) -> Workflow:
    return Workflow(
        metadata=APIResourceMeta(id=name, created_at=_EPOCH, updated_at=_EPOCH),
        name=name,
        description=description,
        is_paused=paused,
    )


class WorkflowQuery(Query):
    """The filters of ``hatchet.workflows.list``, in Hatchet's order."""

    workflow_name: str | None = None
    limit: int | None = None
    offset: int | None = None


class WorkflowsClient(FeatureClient):
    def _known(self) -> dict[str, Workflow]:
        engine = self._engine
        found: dict[str, Workflow] = {}
        for key, raw in engine.store.redis.hgetall(engine.keys.workflows).items():
            data: dict[str, Any] = json.loads(raw) if raw else {}
            found[str(key)] = _row(str(key), data.get("description"))
        for name, workflow in self._registry.workflows.items():
            if workflow.tasks:
                found[name] = _row(name, workflow.config.description)
        for name in pausing.paused_names(engine) & set(found):
            found[name] = found[name].model_copy(update={"is_paused": True})
        return found

    def _name(self, workflow_id: str) -> str:
        return self._registry.config.apply_namespace(workflow_id)

    def get(self, workflow_id: str) -> Workflow:
        """The workflow named ``workflow_id`` (its id)."""
        row = self._known().get(self._name(workflow_id))
        if row is None:
            raise WorkflowNotFoundError(f"workflow {workflow_id!r} is not known")
        return row

    aio_get = aio_twin(get)

    def get_version(self, workflow_id: str, version: str | None = None) -> WorkflowVersion:
        """The workflow's current version (the only one kept); asking for another
        ``version`` than the current one is a ``WorkflowNotFoundError``."""
        row = self.get(workflow_id)
        name = row.name
        declared = self._registry.workflows.get(name)
        current = (declared.config.version if declared is not None else None) or ""
        if version is not None and version != current:
            raise WorkflowNotFoundError(
                f"workflow {workflow_id!r} has no version {version!r} (current: {current!r})"
            )
        schema: dict[str, Any] | None = None
        if declared is not None and declared.input_validator is not EmptyModel:
            try:
                schema = declared._input_adapter.json_schema()
            except Exception:  # a type without a JSON schema
                schema = None
        return WorkflowVersion(
            metadata=row.metadata,
            version=current,
            order=0,
            workflow_id=name,
            sticky=declared.config.sticky.value if declared and declared.config.sticky else None,
            default_priority=int(declared.config.default_priority) if declared else None,
            workflow=row,
            input_json_schema=schema,
        )

    aio_get_version = aio_twin(get_version)

    def delete(self, workflow_id: str) -> None:
        """Forget a workflow's registration (a worker that serves it registers it again)."""
        engine = self._engine
        engine.store.redis.hdel(engine.keys.workflows, self._name(workflow_id))

    aio_delete = aio_twin(delete)

    @takes(WorkflowQuery)
    def list(self, query: WorkflowQuery) -> WorkflowList:
        """Known workflows by name; ``workflow_name`` keeps those whose name contains it."""
        rows = sorted(self._known().values(), key=lambda w: w.name)
        if query.workflow_name:
            needle = self._name(query.workflow_name).lower()
            rows = [w for w in rows if needle in w.name.lower()]
        selected, pagination = query.page(rows, default_limit=None)
        return WorkflowList(rows=selected, pagination=pagination)

    aio_list = aio_twin(list)

    def pause(
        self,
        workflow_id: str,
        queue_ttl: timedelta,
        paused_workflow_cron_run_queue_behavior: Literal["DROP", "QUEUE"] = "QUEUE",
        paused_workflow_scheduled_run_queue_behavior: Literal["DROP", "QUEUE"] = "QUEUE",
    ) -> Workflow:
        """Pause a workflow: its task runs wait (each at most ``queue_ttl``, then it is
        cancelled) until ``unpause``; crons and scheduled runs firing meanwhile are created
        and wait (``QUEUE``) or are not created (``DROP``)."""
        name = self._name(workflow_id)
        pausing.pause(
            self._engine,
            name,
            queue_ttl,
            paused_workflow_cron_run_queue_behavior,
            paused_workflow_scheduled_run_queue_behavior,
        )
        return self._current(name)

    aio_pause = aio_twin(pause)

    def unpause(self, workflow_id: str) -> Workflow:
        """Unpause a workflow: the task runs it held are dispatched again."""
        name = self._name(workflow_id)
        pausing.unpause(self._engine, name)
        return self._current(name)

    aio_unpause = aio_twin(unpause)

    def _current(self, name: str) -> Workflow:
        row = self._known().get(name)
        if row is None:  # not declared here nor registered yet: the pause still applies
            row = _row(name, None, pausing.settings(self._engine, name) is not None)
        return row


__all__ = ["WorkflowsClient"]
