"""Capacity of one slot type on a worker."""

from hatchet_celery.clients.rest.models._base import RestModel


class WorkerSlotConfig(RestModel):
    """Slots of one type: the limit, and how many are free."""

    available: int | None = None
    limit: int
