"""Status of a task run or workflow run as the REST API reports it."""

from enum import Enum


class V1TaskStatus(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Status of a task run or workflow run."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
