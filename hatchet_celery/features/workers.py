"""``hatchet.workers``: the workers serving this namespace, from their heartbeats.

Every worker writes its record (id, name, labels, slots) to ``keys.workers`` every few
seconds (``engine.heartbeat``); a worker is ACTIVE while its last heartbeat is recent,
PAUSED while it drains after SIGTERM (no new work; its tasks in flight finish on it), and
INACTIVE once it stopped or went silent.
Records of workers silent for an hour are dropped when workers are listed.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.update_worker_request import UpdateWorkerRequest
from hatchet_celery.clients.rest.models.worker import Worker
from hatchet_celery.clients.rest.models.worker_label import WorkerLabel
from hatchet_celery.clients.rest.models.worker_list import WorkerList
from hatchet_celery.clients.rest.models.worker_slot_config import WorkerSlotConfig
from hatchet_celery.clients.rest.models.worker_status import WorkerStatus
from hatchet_celery.exceptions import HatchetCeleryError
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient

# Heartbeats come every 5 s; three missed ones make a worker INACTIVE.
ACTIVE_WITHIN = 15.0
FORGET_AFTER = 3600.0


class WorkerNotFoundError(HatchetCeleryError, ValueError):
    """No worker with this id has sent a heartbeat recently."""


def to_worker(record: dict[str, Any], now: float) -> Worker:
    beat = float(record.get("last_heartbeat") or 0)
    started = float(record.get("started_at") or beat)
    labels = record.get("labels") or {}
    slots = int(record.get("slots") or 0)
    return Worker(
        metadata=APIResourceMeta(
            id=str(record["id"]),
            created_at=datetime.fromtimestamp(started, UTC),
            updated_at=datetime.fromtimestamp(beat, UTC),
        ),
        name=str(record.get("name", "")),
        last_heartbeat_at=datetime.fromtimestamp(beat, UTC) if beat else None,
        status=_status(record, now - beat),
        slot_config={"default": WorkerSlotConfig(limit=slots)} if slots else None,
        labels=[
            WorkerLabel(
                metadata=APIResourceMeta(
                    id=f"{record['id']}:{key}",
                    created_at=datetime.fromtimestamp(started, UTC),
                    updated_at=datetime.fromtimestamp(beat, UTC),
                ),
                key=str(key),
                value=None if value is None else str(value),
            )
            for key, value in labels.items()
        ],
    )


def _status(record: dict[str, Any], silent_for: float) -> WorkerStatus:
    if silent_for >= ACTIVE_WITHIN:
        return WorkerStatus.INACTIVE
    if record.get("draining"):  # shutting down: finishing its tasks in flight
        return WorkerStatus.PAUSED
    # a worker that shut down says so in its last record ("stopped")
    return WorkerStatus.INACTIVE if record.get("stopped") else WorkerStatus.ACTIVE


def prune(engine: Any, worker_ids: list[str], now: float) -> int:
    """Forget the records of ``worker_ids`` (read stale) that are still stale, judged in one
    script: a worker that sent a heartbeat since they were read is kept."""
    return int(
        engine.store.script(
            "workers_prune", [engine.keys.workers], [now, FORGET_AFTER, *worker_ids]
        )
    )


class WorkersClient(FeatureClient):
    def _records(self) -> dict[str, dict[str, Any]]:
        engine = self._engine
        raw = engine.store.redis.hgetall(engine.keys.workers)
        now = time.time()
        records: dict[str, dict[str, Any]] = {}
        stale: list[str] = []
        for key, text in raw.items():
            worker_id = str(key)
            try:
                record = json.loads(text)
            except ValueError:
                stale.append(worker_id)
                continue
            if now - float(record.get("last_heartbeat") or 0) > FORGET_AFTER:
                stale.append(worker_id)
            else:
                records[worker_id] = record
        if stale:
            prune(engine, stale, now)
        return records

    def get(self, worker_id: str) -> Worker:
        record = self._records().get(worker_id)
        if record is None:
            raise WorkerNotFoundError(f"worker {worker_id!r} not found")
        return to_worker(record, time.time())

    aio_get = aio_twin(get)

    def update(self, worker_id: str, opts: UpdateWorkerRequest) -> Worker:
        """Pausing a worker is a Hatchet engine feature; with Celery, stop the worker or
        cancel its queue consumer (``celery control cancel_consumer``) instead."""
        if opts.is_paused is not None:
            raise NotImplementedError(
                "hatchet_celery cannot pause a worker: stop it, or use "
                "`celery -A proj control cancel_consumer <queue>`"
            )
        return self.get(worker_id)

    aio_update = aio_twin(update)

    def pause(self, worker_id: str) -> Worker:
        return self.update(worker_id, UpdateWorkerRequest(is_paused=True))

    aio_pause = aio_twin(pause)

    def unpause(self, worker_id: str) -> Worker:
        return self.update(worker_id, UpdateWorkerRequest(is_paused=False))

    aio_unpause = aio_twin(unpause)

    def list(self) -> WorkerList:
        """Every worker seen in the last hour, most recent heartbeat first."""
        now = time.time()
        workers = sorted(
            (to_worker(r, now) for r in self._records().values()),
            key=lambda w: w.last_heartbeat_at or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        return WorkerList(pagination=PaginationResponse(current_page=1, num_pages=1), rows=workers)

    aio_list = aio_twin(list)


__all__ = ["WorkerNotFoundError", "WorkersClient"]
