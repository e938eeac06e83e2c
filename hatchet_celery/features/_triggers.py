"""What the cron and scheduled clients share: workflow checks, filters and pages."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from hatchet_celery._runtime.timing import crons
from hatchet_celery.exceptions import TriggerNotFoundError
from hatchet_celery.features._base import resource_meta

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery._runtime.timing.crons import Cron
    from hatchet_celery._runtime.timing.schedules import Scheduled

T = TypeVar("T")
log = logging.getLogger(__name__)

# Hatchet's REST lists answer 50 rows unless asked for another page size.
DEFAULT_LIMIT = 50


def check_workflow(registry: Registry, name: str, what: str) -> None:
    """Warn when ``name`` is neither declared here nor registered in Redis by a worker.

    Not an error (Hatchet's engine refuses it): a web process may create crons and
    schedules before any worker of a new deployment started. The trigger waits for one:
    a scheduled run fires once a worker serves the workflow, a cron logs each failed tick.
    """
    if name in registry.workflows:
        return
    engine = registry.engine()
    if not engine.store.redis.hexists(engine.keys.workflows, name):
        log.warning(
            "hatchet_celery: %s for workflow %r, which is not declared in this process and "
            "no worker has registered yet; it will not run until a worker serves it",
            what,
            name,
        )


def rest_fields(registry: Registry, row: Cron | Scheduled) -> dict[str, Any]:
    """A stored cron's or scheduled run's fields, with what its REST shape adds: the
    ``metadata`` (id, times), the tenant and the workflow's id. The REST model keeps the
    fields it declares (a ``method`` becomes its enum) and ignores the others."""
    workflow_id = crons.workflow_id(row.workflow_name)
    return {
        **asdict(row),
        "metadata": resource_meta(row.id, row.created_at, row.updated_at),
        "tenant_id": crons.tenant_id(registry.config.namespace),
        "workflow_version_id": workflow_id,
        "workflow_id": workflow_id,
    }


def found(row: T | None, what: str) -> T:
    """A trigger the store loaded, or ``TriggerNotFoundError`` naming ``what``."""
    if row is None:
        raise TriggerNotFoundError(f"{what} not found")
    return row


def removed(deleted: bool, what: str) -> None:
    """``TriggerNotFoundError`` naming ``what`` unless the store deleted it."""
    found(True if deleted else None, what)


def metadata_matches(metadata: dict[str, Any], wanted: dict[str, Any] | None) -> bool:
    """Every wanted key has the wanted value (compared as text, as Hatchet's key-values)."""
    if not wanted:
        return True
    return all(k in metadata and str(metadata[k]) == str(v) for k, v in wanted.items())


def page(
    rows: Sequence[T], offset: int | None, limit: int | None
) -> tuple[list[T], dict[str, int]]:
    """One page of ``rows`` and Hatchet's pagination numbers for it."""
    size = limit if limit and limit > 0 else DEFAULT_LIMIT
    start = max(offset or 0, 0)
    pages = max(math.ceil(len(rows) / size), 1)
    current = start // size + 1
    pagination = {"current_page": current, "num_pages": pages}
    if current < pages:
        pagination["next_page"] = current + 1
    return list(rows[start : start + size]), pagination
