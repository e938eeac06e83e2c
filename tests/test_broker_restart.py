"""A broker restart with runs in flight, on the user's app under ``celery -A proj worker``.

RabbitMQ: ``rabbitmqctl stop_app`` / ``start_app`` (the node keeps running, the broker is
gone for a while). Redis broker: a redis-server of its own (append-only), restarted; the
coordination store stays up. Every run completes, each task body runs once, and the worker
process is the same one before and after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hatchet_celery.testing import RedisServer
from tests.deploy.project import Proc, build_project, drive, worker_command
from tests.test_deployments import cell_env

IN_FLIGHT = 12


@pytest.mark.timeout(300)
@pytest.mark.parametrize("broker_kind", ["redis", "rabbitmq"])
def test_runs_in_flight_survive_a_broker_restart(
    broker_kind: str, redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder = build_project(tmp_path / "project")
    own_redis: RedisServer | None = None
    rabbit: Any = None
    if broker_kind == "redis":
        own_redis = RedisServer(appendonly=True, data_dir=tmp_path / "broker").start()
        broker = own_redis.url
    else:
        rabbit = request.getfixturevalue("rabbitmq")
        broker = rabbit.url
    env = cell_env(f"restart_{broker_kind}", broker, redis_url, folder)
    worker = Proc(worker_command("prefork"), folder, env, "worker")
    try:
        worker.wait_for_log(" ready.")
        pid = worker.proc.pid
        assert drive(folder, env, "start_slow") == {"started": IN_FLIGHT}
        if own_redis is not None:
            own_redis.restart()
        else:
            rabbit.stop_app()
            rabbit.start_app()
        out = drive(folder, env, "wait_slow")
        assert worker.alive and worker.proc.pid == pid, worker.tail()
        assert out["results"] == list(range(IN_FLIGHT))
        assert out["bodies"] == [1] * IN_FLIGHT, out["bodies"]
        assert "Unrecoverable" not in worker.log(), worker.tail()
    finally:
        worker.stop()
        if own_redis is not None:
            own_redis.stop()
