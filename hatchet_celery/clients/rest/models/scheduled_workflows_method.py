"""How a scheduled run was created."""

from enum import Enum


class ScheduledWorkflowsMethod(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """``DEFAULT``: declared; ``API``: created through ``hatchet.scheduled`` or ``schedule()``."""

    DEFAULT = "DEFAULT"
    API = "API"
