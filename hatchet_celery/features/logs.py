"""``hatchet.logs``: the lines a task run wrote with ``ctx.log`` (kept for the retention)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.v1_log_line import V1LogLine
from hatchet_celery.clients.rest.models.v1_log_line_level import V1LogLineLevel
from hatchet_celery.clients.rest.models.v1_log_line_list import V1LogLineList
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient


def _line(task_run_id: str, raw: str) -> V1LogLine:
    try:
        data: dict[str, Any] = json.loads(raw)
    except ValueError:
        data = {"message": raw}
    level = str(data.get("level", "INFO")).upper()
    created = data.get("created_at")
    return V1LogLine(
        created_at=datetime.fromisoformat(created) if created else datetime.now(UTC),
        message=str(data.get("message", "")),
        metadata={k: v for k, v in data.items() if k in ("workflow_run_id", "task")},
        task_external_id=task_run_id,
        task_display_name=data.get("task"),
        retry_count=data.get("retry_count"),
        attempt=data.get("attempt"),
        level=V1LogLineLevel(level) if level in V1LogLineLevel.__members__ else None,
    )


class LogsClient(FeatureClient):
    def list(
        self,
        task_run_id: str,
        limit: int = 1000,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> V1LogLineList:
        """The task run's lines, oldest first: the latest ``limit`` of those in the window."""
        engine = self._engine
        raw = engine.store.redis.lrange(engine.keys.logs(task_run_id), 0, -1)
        lines = [_line(task_run_id, str(r)) for r in raw]
        if since is not None:
            lines = [x for x in lines if x.created_at >= _aware(since)]
        if until is not None:
            lines = [x for x in lines if x.created_at <= _aware(until)]
        if limit is not None and limit >= 0:
            lines = lines[-limit:] if limit else []
        return V1LogLineList(pagination=PaginationResponse(current_page=1, num_pages=1), rows=lines)

    aio_list = aio_twin(list)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.astimezone(UTC)


__all__ = ["LogsClient"]
