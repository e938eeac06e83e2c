"""One item of a bulk scheduled-run operation that could not be applied."""

from hatchet_celery.clients.rest.models._base import RestModel


class ScheduledWorkflowsBulkError(RestModel):
    """The scheduled run id (when known) and why it was not deleted or moved."""

    id: str | None = None
    error: str
