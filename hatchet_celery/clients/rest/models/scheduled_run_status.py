"""Status filter values for listing scheduled runs."""

from enum import Enum

from hatchet_celery.clients.rest.models.workflow_run_status import WorkflowRunStatus as _Run


class ScheduledRunStatus(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Status of a scheduled run: ``SCHEDULED`` until it fires, then the status of the run it
    created (``WorkflowRunStatus`` but ``BACKOFF``)."""

    PENDING = _Run.PENDING.value
    RUNNING = _Run.RUNNING.value
    SUCCEEDED = _Run.SUCCEEDED.value
    FAILED = _Run.FAILED.value
    CANCELLED = _Run.CANCELLED.value
    QUEUED = _Run.QUEUED.value
    SCHEDULED = "SCHEDULED"
