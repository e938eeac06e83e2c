"""Three writes that used to read in Python and write back what they read, now each one
script (or a check-and-set in one). Each test plays the interleaving that lost data:
another process writes between the read and the write.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hatchet_celery import ClientConfig, Hatchet
from hatchet_celery._runtime.core import run_index
from hatchet_celery.features import filters, workers
from hatchet_celery.features.workers import FORGET_AFTER


@pytest.fixture
def engine() -> Iterator[Any]:
    hatchet = Hatchet(config=ClientConfig(namespace=f"rmw{uuid.uuid4().hex[:6]}"))
    engine = hatchet._registry.engine()
    yield engine
    for key in engine.store.redis.scan_iter(f"{engine.keys.base}:*"):
        engine.store.redis.delete(key)


def _put_filter(engine: Any, filter_id: str) -> None:
    record = {"id": filter_id, "expression": "true", "scope": "a", "payload": {}}
    engine.store.redis.hset(engine.keys.event_filters, filter_id, json.dumps(record))


def _filter(engine: Any, filter_id: str) -> Any:
    raw = engine.store.redis.hget(engine.keys.event_filters, filter_id)
    return None if raw is None else json.loads(raw)


def test_two_filter_updates_both_land(engine: Any) -> None:
    _put_filter(engine, "f1")
    calls = 0

    def set_scope(record: dict[str, Any]) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:  # another update lands between this one's read and its write
            filters.update_record(engine, "f1", lambda r: {**r, "payload": {"b": 1}})
        return {**record, "scope": "z"}

    filters.update_record(engine, "f1", set_scope)
    stored = _filter(engine, "f1")
    assert (stored["scope"], stored["payload"]) == ("z", {"b": 1})
    assert calls == 2  # the first write found the record changed and read it again


def test_an_update_racing_a_delete_does_not_bring_the_filter_back(engine: Any) -> None:
    _put_filter(engine, "f2")

    def deleted_meanwhile(record: dict[str, Any]) -> dict[str, Any]:
        engine.store.redis.hdel(engine.keys.event_filters, "f2")
        return {**record, "scope": "z"}

    with pytest.raises(ValueError, match="not found"):
        filters.update_record(engine, "f2", deleted_meanwhile)
    assert _filter(engine, "f2") is None


def test_pruning_keeps_a_worker_that_sent_a_heartbeat_since_it_was_read_stale(
    engine: Any,
) -> None:
    now = time.time()
    old = json.dumps({"id": "w1", "last_heartbeat": now - FORGET_AFTER - 10})
    engine.store.redis.hset(engine.keys.workers, mapping={"w1": old, "w2": old, "w3": "{bad"})
    # w1 was read stale, then its heartbeat landed before the prune
    engine.store.redis.hset(engine.keys.workers, "w1", json.dumps({"last_heartbeat": now}))
    assert workers.prune(engine, ["w1", "w2", "w3"], now) == 2
    assert set(engine.store.redis.hkeys(engine.keys.workers)) == {"w1"}


def test_status_repair_files_a_run_under_the_status_it_has_now(engine: Any) -> None:
    keys = engine.keys
    created = 1_700_000_000.0
    # the listing read it QUEUED, filed under RUNNING; it completed before the repair
    engine.store.redis.hset(keys.run("r1"), mapping={"st": "COMPLETED", "ct": created})
    engine.store.redis.zadd(keys.status_index, {"r1": 2 * run_index.RANK_SPAN})
    run_index.repair(engine, "r1")
    expected = run_index.STATUS_RANK["COMPLETED"] * run_index.RANK_SPAN + created * 1000
    assert engine.store.redis.zscore(keys.status_index, "r1") == expected
    run_index.repair(engine, "gone")  # a run that expired meanwhile is not filed again
    assert engine.store.redis.zscore(keys.status_index, "gone") is None
