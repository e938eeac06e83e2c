"""Status of a worker as the REST API reports it."""

from enum import Enum


class WorkerStatus(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Status of a worker."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    PAUSED = "PAUSED"
