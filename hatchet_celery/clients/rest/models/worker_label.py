"""A label a worker registered with (REST shape)."""

from hatchet_celery.clients.rest.models.api_resource_meta import Resource


class WorkerLabel(Resource):
    """A worker's label as listed by ``hatchet.workers``; int values are reported as text."""

    key: str
    value: str | None = None
