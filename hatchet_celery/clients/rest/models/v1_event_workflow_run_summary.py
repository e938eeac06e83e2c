"""Counts of the runs an event triggered, by status."""

from hatchet_celery.clients.rest.models._base import RestModel


class V1EventWorkflowRunSummary(RestModel):
    """Run counts per status for one event."""

    running: int = 0
    queued: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
