"""Queued and running counts of one task (``hatchet.metrics.get_task_stats``)."""

from __future__ import annotations

from datetime import datetime

from hatchet_celery.clients.rest.models._base import RestModel


class TaskStatusStat(RestModel):
    """How many task runs are in one status, by queue, and the oldest one's time."""

    total: int | None = None
    queues: dict[str, int] | None = None
    oldest: datetime | None = None


class TaskStat(RestModel):
    """A task's queued and running task runs."""

    queued: TaskStatusStat | None = None
    running: TaskStatusStat | None = None


__all__ = ["TaskStat", "TaskStatusStat"]
