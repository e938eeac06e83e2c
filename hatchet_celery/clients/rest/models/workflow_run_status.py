"""Legacy (v0) status of a workflow run."""

from enum import Enum


class WorkflowRunStatus(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Legacy status of a workflow run."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    QUEUED = "QUEUED"
    BACKOFF = "BACKOFF"
