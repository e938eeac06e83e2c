"""Restarting workers leaves nothing on the broker that grows with restarts.

Each worker consumes a queue of its own (``hatchet.<namespace>.worker.<id>``, for sticky and
affinity routing), named after its worker id, so every start declares a new one. A clean stop
deletes it (and it is auto-delete with an ``x-expires`` besides, for a crashed worker). Three
``celery -A proj worker`` starts and stops on each broker must leave none of them behind.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.deploy.project import Proc, build_project, worker_command
from tests.test_deployments import broker_url, cell_env

RESTARTS = 3


def worker_queues(kind: str, broker: str, rabbit: Any, namespace: str) -> list[str]:
    prefix = f"hatchet.{namespace}.worker."
    if kind == "rabbitmq":
        return [q for q in rabbit.queue_names() if q.startswith(prefix)]
    client = redis.Redis.from_url(broker, decode_responses=True)
    try:  # kombu's Redis transport: one binding table per exchange (= the queue's name)
        return sorted(client.scan_iter(match=f"_kombu.binding.{prefix}*"))
    finally:
        client.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("broker_kind", ["redis", "rabbitmq"])
def test_worker_restarts_leave_no_queue_behind(
    broker_kind: str, redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder = build_project(tmp_path)
    namespace = f"leftovers_{broker_kind}"
    broker = broker_url(broker_kind, redis_url, request)
    rabbit = request.getfixturevalue("rabbitmq") if broker_kind == "rabbitmq" else None
    env = cell_env(namespace, broker, redis_url, folder)
    for run in range(RESTARTS):
        worker = Proc(worker_command("threads"), folder, env, f"worker{run}")
        try:
            worker.wait_for_log(" ready.")
            deadline = time.monotonic() + 60  # each run declares its own queue ...
            while len(worker_queues(broker_kind, broker, rabbit, namespace)) != 1:
                assert time.monotonic() < deadline, (run, worker.tail())
                time.sleep(0.1)
        finally:
            worker.stop()
    assert worker_queues(broker_kind, broker, rabbit, namespace) == []  # ... and none is left
