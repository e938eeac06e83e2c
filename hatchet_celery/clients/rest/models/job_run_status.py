"""Legacy (v0) status of a job run."""

from enum import Enum


class JobRunStatus(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Legacy status of a job run."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    BACKOFF = "BACKOFF"
