"""Sort keys of ``hatchet.scheduled.list``."""

from enum import Enum


class ScheduledWorkflowsOrderByField(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Order scheduled runs by trigger time or by creation time."""

    TRIGGERAT = "triggerAt"
    CREATEDAT = "createdAt"
