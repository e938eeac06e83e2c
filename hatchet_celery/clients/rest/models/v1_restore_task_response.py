"""What restoring an evicted durable task run returns."""

from hatchet_celery.clients.rest.models._base import RestModel


class V1RestoreTaskResponse(RestModel):
    """Whether the task run was queued again (False: it was not evicted)."""

    requeued: bool
