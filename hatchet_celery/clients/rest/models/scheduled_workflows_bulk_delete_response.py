"""Result of ``hatchet.scheduled.bulk_delete``."""

from pydantic import Field

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.scheduled_workflows_bulk_error import (
    ScheduledWorkflowsBulkError,
)


class ScheduledWorkflowsBulkDeleteResponse(RestModel):
    """The ids deleted, and an error per id that was not."""

    deleted_ids: list[str] = Field(default_factory=list)
    errors: list[ScheduledWorkflowsBulkError] = Field(default_factory=list)
