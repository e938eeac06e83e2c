"""One log line written by a task run."""

from datetime import datetime
from typing import Any

from pydantic import Field

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.v1_log_line_level import V1LogLineLevel


class V1LogLine(RestModel):
    """A line logged with ``ctx.log`` (or captured from the task's logger)."""

    created_at: datetime
    message: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    task_external_id: str | None = None
    task_display_name: str | None = None
    retry_count: int | None = None
    attempt: int | None = None
    level: V1LogLineLevel | None = None
