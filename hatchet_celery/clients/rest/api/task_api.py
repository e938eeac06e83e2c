"""``TaskApi``: the task-run calls Hatchet programs make through ``hatchet.runs.client()``.

There is no HTTP client here: ``client`` is the ``RunsClient`` that ``runs.client()``
yields, and each call goes straight to it.
"""

from __future__ import annotations

from typing import Any

from hatchet_celery.clients.rest.models.v1_restore_task_response import V1RestoreTaskResponse


class TaskApi:
    """``TaskApi(client).v1_task_restore(task=...)`` and friends."""

    def __init__(self, api_client: Any = None) -> None:
        self._runs = api_client

    def v1_task_restore(self, task: str, **_: Any) -> V1RestoreTaskResponse:
        """Restore an evicted durable task run (queue it again); a no-op otherwise."""
        return V1RestoreTaskResponse(requeued=bool(self._runs.restore_task(str(task))))

    def v1_task_cancel(self, task: str, **_: Any) -> None:
        self._runs.cancel(str(task))

    def v1_task_get(self, task: str, **_: Any) -> Any:
        return self._runs.get_task_run(str(task))


__all__ = ["TaskApi"]
