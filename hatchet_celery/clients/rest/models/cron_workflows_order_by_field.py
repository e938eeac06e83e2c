"""Sort keys of ``hatchet.cron.list``."""

from enum import Enum


class CronWorkflowsOrderByField(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Order crons by name or by creation time."""

    NAME = "name"
    CREATEDAT = "createdAt"
