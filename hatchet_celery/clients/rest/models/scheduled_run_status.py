"""Status filter values for listing scheduled runs."""

from enum import Enum


class ScheduledRunStatus(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Status of a scheduled run (or of the run it created)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    QUEUED = "QUEUED"
    SCHEDULED = "SCHEDULED"
