"""A label a worker registered with (REST shape)."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta


class WorkerLabel(RestModel):
    """A worker's label as listed by ``hatchet.workers``; int values are reported as text."""

    metadata: APIResourceMeta
    key: str
    value: str | None = None
