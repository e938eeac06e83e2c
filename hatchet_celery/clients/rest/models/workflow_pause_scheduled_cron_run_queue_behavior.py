"""What a paused workflow does with cron and scheduled runs that come due."""

from enum import Enum


class WorkflowPauseScheduledCronRunQueueBehavior(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Drop the due runs, or queue them until the workflow is unpaused."""

    DROP = "DROP"
    QUEUE = "QUEUE"
