"""One move of ``hatchet.scheduled.bulk_update``."""

from datetime import datetime

from hatchet_celery.clients.rest.models._base import RestModel


class ScheduledWorkflowsBulkUpdateItem(RestModel):
    """Move scheduled run ``id`` to ``trigger_at`` (``triggerAt`` on the wire)."""

    id: str
    trigger_at: datetime
