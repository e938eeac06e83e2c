"""Sort direction of the list calls."""

from enum import Enum


class WorkflowRunOrderByDirection(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Ascending or descending."""

    ASC = "ASC"
    DESC = "DESC"
