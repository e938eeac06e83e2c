"""One entry of a run's task event history."""

from datetime import datetime

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.v1_task_event_type import V1TaskEventType


class V1TaskEvent(RestModel):
    """A task run event; ``task_id`` is the task run's external id (its ``metadata.id``)."""

    id: int
    task_id: str
    timestamp: datetime
    event_type: V1TaskEventType
    message: str = ""
    error_message: str | None = None
    output: str | None = None  # JSON text, as in Hatchet
    worker_id: str | None = None
    task_display_name: str | None = None
    retry_count: int | None = None
    attempt: int | None = None
