"""How a worker is hosted."""

from enum import Enum


class WorkerType(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """How a worker is hosted (hatchet_celery workers are always ``SELFHOSTED``)."""

    SELFHOSTED = "SELFHOSTED"
    MANAGED = "MANAGED"
    WEBHOOK = "WEBHOOK"
