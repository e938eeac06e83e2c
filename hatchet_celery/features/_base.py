"""What every feature client (``hatchet.runs``, ``hatchet.cron``, ...) is built on.

A feature client serves one registry: ``Hatchet`` builds it with that registry on first
access, and the client reaches Redis through the registry's engine, resolved per call so
that a client made before the engine exists still works once it does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hatchet_celery._runtime.core.client import RegistryBound
from hatchet_celery._runtime.timing.crons import tenant_id
from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta


class FeatureClient(RegistryBound):
    """The registry a feature client serves, and its engine."""

    @property
    def _tenant_id(self) -> str:
        """The one tenant of this namespace, as the REST rows carry it."""
        return tenant_id(self._registry.config.namespace)


def utc(epoch: float) -> datetime:
    """A stored epoch timestamp as the aware UTC datetime the REST models carry."""
    return datetime.fromtimestamp(epoch, UTC)


def resource_meta(resource_id: str, created_at: float, updated_at: float) -> APIResourceMeta:
    """The ``metadata`` of a REST row from its id and stored epoch timestamps."""
    return APIResourceMeta(id=resource_id, created_at=utc(created_at), updated_at=utc(updated_at))


__all__ = ["FeatureClient", "resource_meta", "utc"]
