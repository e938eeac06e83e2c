"""``hatchet.cron``: create, list, get and delete cron triggers (stored in Redis).

Crons created here are fired by any running beat within a second, without a restart
(see ``hatchet_celery.beat``). Declared ``on_crons`` appear in ``list`` too
(``method=DEFAULT``) once a worker or a beat that imports them has started.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from hatchet_celery._cron import parse_cron
from hatchet_celery._runtime.timing import crons
from hatchet_celery._runtime.timing.crons import Cron
from hatchet_celery.clients.rest.models.cron_workflows import CronWorkflows
from hatchet_celery.clients.rest.models.cron_workflows_list import CronWorkflowsList
from hatchet_celery.clients.rest.models.cron_workflows_order_by_field import (
    CronWorkflowsOrderByField,
)
from hatchet_celery.clients.rest.models.trigger_run_result import TriggerRunResult
from hatchet_celery.clients.rest.models.workflow_run_order_by_direction import (
    WorkflowRunOrderByDirection,
)
from hatchet_celery.features import _triggers
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient
from hatchet_celery.features._query import OffsetLimit, takes
from hatchet_celery.runnables.types import Priority


class CronQuery(OffsetLimit):
    """The filters of ``hatchet.cron.list``, in Hatchet's order."""

    workflow_id: str | None = None
    additional_metadata: dict[str, Any] | None = None
    order_by_field: CronWorkflowsOrderByField | None = None
    order_by_direction: WorkflowRunOrderByDirection | None = None
    workflow_name: str | None = None
    cron_name: str | None = None


class _CronApi:
    """The REST calls Hatchet programs reach through ``hatchet.cron._wa(client)``."""

    def __init__(self, cron_client: CronClient) -> None:
        self._cron = cron_client

    def workflow_cron_trigger(self, tenant: str | None = None, *, cron_workflow: str) -> Any:
        """Run the cron's workflow now, as a tick would (``TriggerRunResult``)."""
        return self._cron.trigger_now(cron_workflow)


class CronClient(FeatureClient):
    """Hatchet's ``CronClient`` over the Redis cron store."""

    # --- REST-shaped plumbing that Hatchet programs call ----------------------------------
    @contextmanager
    def client(self) -> Iterator[CronClient]:
        """Hatchet's REST client context; there is no HTTP client here, so it is ``self``."""
        yield self

    def _wa(self, client: Any = None) -> _CronApi:
        return _CronApi(self)

    _wra = _wa

    def to_rest(self, cron: Cron) -> CronWorkflows:
        return CronWorkflows.model_validate(_triggers.rest_fields(self._registry, cron))

    # --- the API ----------------------------------------------------------------------------
    def create(
        self,
        workflow_name: str,
        cron_name: str,
        expression: str,
        input: dict[str, Any],
        additional_metadata: dict[str, Any],
        priority: int | Priority | None = None,
    ) -> CronWorkflows:
        """Store a cron; a running beat fires it from its next tick on.

        The expression is checked here (5 fields, or 6 with leading seconds; UTC); a
        workflow's (name, expression) pair is unique, as in Hatchet.
        """
        if not cron_name:
            raise ValueError("a cron needs a name (cron_name)")
        name = self._registry.config.apply_namespace(workflow_name)
        parse_cron(expression, what=f"cron {cron_name!r} of workflow {name!r}")
        _triggers.check_workflow(self._registry, name, f"cron {cron_name!r} created")
        if priority is not None and not 1 <= int(priority) <= 3:
            raise ValueError(f"cron {cron_name!r}: priority must be 1, 2 or 3, got {priority!r}")
        now = time.time()
        cron = Cron(
            id=str(uuid.uuid4()),
            workflow_name=name,
            cron=expression,
            name=cron_name,
            input=dict(input or {}),
            additional_metadata=dict(additional_metadata or {}),
            priority=None if priority is None else int(priority),
            method=crons.API,
            created_at=now,
            updated_at=now,
        )
        created, cron_id = crons.create(self._engine, cron)
        if not created:
            raise ValueError(
                f"a cron named {cron_name!r} with expression {expression!r} already exists "
                f"for workflow {name!r} (id {cron_id})"
            )
        return self.to_rest(cron)

    aio_create = aio_twin(create)

    def delete(self, cron_id: str) -> None:
        """Delete a cron; beats stop firing it at once."""
        _triggers.removed(crons.delete(self._engine, str(cron_id)), f"cron {cron_id!r}")

    aio_delete = aio_twin(delete)

    def _load(self, cron_id: str) -> Cron:
        return _triggers.found(crons.load(self._engine, str(cron_id)), f"cron {cron_id!r}")

    def get(self, cron_id: str) -> CronWorkflows:
        return self.to_rest(self._load(cron_id))

    aio_get = aio_twin(get)

    @takes(CronQuery)
    def list(self, query: CronQuery) -> CronWorkflowsList:
        """Crons matching every filter given (a workflow's id is its namespaced name)."""
        config = self._registry.config
        wanted_id = config.apply_namespace(query.workflow_id) if query.workflow_id else None
        wanted_name = config.apply_namespace(query.workflow_name) if query.workflow_name else None
        rows = [
            c
            for c in crons.load_all(self._engine)
            if (wanted_id is None or crons.workflow_id(c.workflow_name) == wanted_id)
            and (wanted_name is None or c.workflow_name == wanted_name)
            and (query.cron_name is None or c.name == query.cron_name)
            and _triggers.metadata_matches(c.additional_metadata, query.additional_metadata)
        ]
        by_name = query.order_by_field == CronWorkflowsOrderByField.NAME
        rows.sort(
            key=lambda c: (c.name or "", c.created_at) if by_name else (c.created_at, c.id),
            reverse=query.order_by_direction == WorkflowRunOrderByDirection.DESC,
        )
        selected, pagination = query.page(rows)
        return CronWorkflowsList(rows=[self.to_rest(c) for c in selected], pagination=pagination)

    aio_list = aio_twin(list)

    def trigger_now(self, cron_id: str) -> TriggerRunResult:
        """Run a cron's workflow at once with its input and metadata (not a tick)."""
        run_id = crons.trigger(self._registry, self._load(cron_id), datetime.now(UTC))
        return TriggerRunResult(external_id=run_id)


__all__ = ["CronClient"]
