"""A run started by an event."""

from hatchet_celery.clients.rest.models._base import RestModel


class V1EventTriggeredRun(RestModel):
    """A run an event triggered, and the filter that let it through (if any)."""

    workflow_run_id: str
    filter_id: str | None = None
