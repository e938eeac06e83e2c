"""How a cron trigger was created."""

from enum import Enum


class CronWorkflowsMethod(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """``DEFAULT``: declared with ``on_crons``; ``API``: created through ``hatchet.cron``."""

    DEFAULT = "DEFAULT"
    API = "API"
