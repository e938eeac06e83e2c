"""``hatchet.metrics``: how many runs are in each status, from the listing indexes.

Hatchet counts task runs; here the unit is the workflow run (a standalone task's run is
its one task run), which is what the status index holds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from hatchet_celery._protocol import RunStatus, TaskStatus
from hatchet_celery._runtime.core import run_index
from hatchet_celery.clients.rest.models.task_stat import TaskStat, TaskStatusStat
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient

DAY = 86400.0
STATS_RUNS = 10_000  # active runs read by get_task_stats at most


def _stat(kinds: dict[str, list[float]]) -> TaskStat:
    def one(times: list[float] | None) -> TaskStatusStat | None:
        if not times:
            return None
        return TaskStatusStat(
            total=len(times), oldest=datetime.fromtimestamp(min(times), UTC) if any(times) else None
        )

    return TaskStat(queued=one(kinds.get("queued")), running=one(kinds.get("running")))


class TaskMetrics(BaseModel):
    cancelled: int
    completed: int
    failed: int
    queued: int
    running: int


class MetricsClient(FeatureClient):
    def get_task_metrics(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        workflow_ids: list[str] | None = None,
        parent_task_external_id: str | None = None,
        triggering_event_external_id: str | None = None,
    ) -> TaskMetrics:
        """Runs created in [since (a day ago), until (now)] by status."""
        engine = self._engine
        now = time.time()
        lo = since.timestamp() if since else now - DAY
        hi = until.timestamp() if until else now
        filtered = bool(workflow_ids or parent_task_external_id or triggering_event_external_id)
        counts: dict[str, int] = {}
        for status in run_index.STATUS_RANK:
            if not filtered:
                src = run_index.status_source(engine.keys, status, lo, hi)
                counts[status.lower()] = int(
                    engine.store.redis.zcount(src.key, repr(src.lo), repr(src.hi))
                )
                continue
            query = run_index.RunQuery(
                since=lo,
                until=hi,
                statuses=[status],
                workflows=[self._registry.config.apply_namespace(w) for w in workflow_ids or []],
                parent=parent_task_external_id,
                event_id=triggering_event_external_id,
            )
            page = run_index.query(engine, query, 0, 2**31)
            counts[status.lower()] = page.total if page.total is not None else len(page.ids)
        return TaskMetrics.model_validate(counts)

    aio_get_task_metrics = aio_twin(get_task_metrics)

    def get_queue_metrics(self) -> dict[str, Any]:
        """Queued and running runs of the last day."""
        metrics = self.get_task_metrics()
        return {"queued": metrics.queued, "running": metrics.running}

    aio_get_queue_metrics = aio_twin(get_queue_metrics)

    def scrape_tenant_prometheus_metrics(self) -> str:
        """The last day's run counts by status, in Prometheus' text format."""
        metrics = self.get_task_metrics()
        lines = ["# TYPE hatchet_celery_runs gauge"]
        for status, count in metrics.model_dump().items():
            lines.append(f'hatchet_celery_runs{{status="{status}"}} {count}')
        return "\n".join(lines) + "\n"

    aio_scrape_tenant_prometheus_metrics = aio_twin(scrape_tenant_prometheus_metrics)

    def get_task_stats(self) -> dict[str, TaskStat]:
        """Queued (waiting in any gate too) and running task runs per task name, of the
        runs created in the last day, with the oldest one's queued time."""
        engine = self._engine
        now = time.time()
        redis = engine.store.redis
        ids: list[str] = []
        for status in (RunStatus.QUEUED, RunStatus.RUNNING):
            src = run_index.status_source(engine.keys, status, now - DAY, now)
            ids += [str(i) for i in redis.zrangebyscore(src.key, repr(src.lo), repr(src.hi))]
        pipe = redis.pipeline(transaction=False)
        for run_id in ids[:STATS_RUNS]:
            pipe.hgetall(engine.keys.run(run_id))
        counts: dict[str, dict[str, list[float]]] = {}
        for fields in pipe.execute():
            for field, status in fields.items():
                if not field.startswith("s:"):
                    continue
                kind = "running" if status == TaskStatus.RUNNING else "queued"
                waiting = status.startswith("WAIT_")  # parked by a gate: still queued
                if status not in (TaskStatus.RUNNING, TaskStatus.QUEUED) and not waiting:
                    continue
                task = field[2:]
                queued_at = float(fields.get(f"q:{task}") or 0)
                counts.setdefault(task, {}).setdefault(kind, []).append(queued_at)
        return {name: _stat(kinds) for name, kinds in counts.items()}

    aio_get_task_stats = aio_twin(get_task_stats)


__all__ = ["MetricsClient", "TaskMetrics"]
