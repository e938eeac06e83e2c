"""Changes to a worker."""

from hatchet_celery.clients.rest.models._base import RestModel


class UpdateWorkerRequest(RestModel):
    """Argument of ``hatchet.workers.update``."""

    is_paused: bool | None = None
