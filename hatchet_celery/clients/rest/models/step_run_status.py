"""Legacy (v0) status of a step run."""

from enum import Enum


class StepRunStatus(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Legacy status of a step run."""

    PENDING = "PENDING"
    PENDING_ASSIGNMENT = "PENDING_ASSIGNMENT"
    ASSIGNED = "ASSIGNED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CANCELLING = "CANCELLING"
    BACKOFF = "BACKOFF"
