"""The deployment matrix: the ways real teams run Celery, each serving Hatchet runs.

{Redis broker, RabbitMQ broker} x {``celery -A proj worker`` (prefork, Celery's default),
``celery -A proj worker --pool threads``, ``hatchet.worker(...).start()``}, on a user app
written exactly as the README shows (``tests/deploy/project.py``), with ``celery -A proj beat``
beside it. Each cell runs a plain Celery task, a DAG, a retry, a concurrency key, a priority
backlog, a durable sleep, an event trigger and a cron fired once per tick. Redis is always
the coordination store; every process is a real one, stopped by its pid.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.project import Proc, build_project, celery, drive, worker_command

BROKERS = ["redis", "rabbitmq"]
RUNNERS = ["prefork", "threads", "hatchet_worker"]


def broker_url(kind: str, redis_url: str, request: pytest.FixtureRequest) -> str:
    if kind == "redis":
        return redis_url.rsplit("/", 1)[0] + "/1"  # the broker in its own database
    server: Any = request.getfixturevalue("rabbitmq")
    return str(server.url)


def cell_env(namespace: str, broker: str, redis_url: str, folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{folder}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "CELERY_BROKER_URL": broker,
        "HATCHET_CELERY_REDIS_URL": redis_url,
        "HATCHET_CLIENT_NAMESPACE": namespace,
    }


@pytest.mark.timeout(400)
@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("broker_kind", BROKERS)
def test_user_app_serves_hatchet_runs(
    broker_kind: str, runner: str, redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder = build_project(tmp_path)
    env = cell_env(
        f"m_{broker_kind}_{runner}", broker_url(broker_kind, redis_url, request), redis_url, folder
    )
    # How many tasks the worker runs at once (its first wave of the priority backlog).
    env["MATRIX_SLOTS"] = str(os.cpu_count() or 1) if runner == "prefork" else "4"
    # The priority backlog waits in the broker before any worker exists.
    assert drive(folder, env, "prepare") == {"published": 8}
    worker = Proc(worker_command(runner), folder, env, "worker")
    beat = Proc(
        celery("beat", "--loglevel", "INFO", "-s", str(folder / "beat-schedule")),
        folder,
        env,
        "beat",
    )
    try:
        worker.wait_for_log(" ready.")
        out = drive(folder, env, "run")
        beat.stop()
        done = drive(folder, env, "finish")
        assert worker.alive, worker.tail()
    finally:
        beat.stop()
        worker.stop()

    assert out["legacy"] == 42 and out["new_task"] == {"hello": "world"}
    assert out["dag"]["product"] == {"v": 6}
    assert out["retry"] == {"attempt": 1} and out["retry_bodies"] == 2
    assert sorted(r["n"] for r in out["concurrency"]) == [0, 1, 2]
    assert out["concurrency_seen"] == [1, 1, 1]  # one run of key "a" at a time
    assert out["durable_slept"] >= 1.0
    assert out["event"] == 7
    order = out["priority_order"]
    assert sorted(order) == sorted([f"H{i}" for i in range(4)] + [f"L{i}" for i in range(4)])
    # Priority 3 before 1: the backlog starts in waves of one task per slot (see
    # `prioritised`), and no wave holds a high-priority task after one holding a low one.
    slots = int(env["MATRIX_SLOTS"])
    waves = {name: i // slots for i, name in enumerate(order)}
    high = [w for name, w in waves.items() if name.startswith("H")]
    low = [w for name, w in waves.items() if name.startswith("L")]
    assert max(high) <= min(low), (order, slots)
    # Beat fired every second it ran, each tick once, and every run it made completed.
    ticks = sorted(
        int(datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
        for t in done["cron_ticks"]
    )
    assert len(ticks) >= 3 and done["cron_open"] == 0, done
    assert done["cron_runs"] == len(ticks) == len(set(ticks)), done
    assert ticks == list(range(ticks[0], ticks[0] + len(ticks))), ticks
    assert "Unrecoverable" not in worker.log() and "unregistered task" not in worker.log()


@pytest.mark.timeout(300)
def test_hatchet_celery_cli_worker_and_beat_serve_the_users_app(
    redis_url: str, tmp_path: Path
) -> None:
    """``hatchet-celery worker proj.celery:hatchet`` and ``celery -A proj hatchet beat``, as
    typed: the CLI's own worker and beat on the same user app."""
    folder = build_project(tmp_path)
    env = cell_env("m_cli", redis_url.rsplit("/", 1)[0] + "/1", redis_url, folder)
    cli = str(Path(sys.executable).parent / "hatchet-celery")
    worker = Proc([cli, "worker", "proj.tasks:hatchet", "--slots", "4"], folder, env, "worker")
    beat = Proc(celery("hatchet", "beat", "proj.tasks:hatchet"), folder, env, "beat")
    try:
        worker.wait_for_log(" ready.")
        out = drive(folder, env, "smoke")
        assert out == {"plain": 2, "hatchet": {"hello": "world"}}
        ticks = drive(folder, env, "wait_ticks")
        beat.stop()
        done = drive(folder, env, "finish")
    finally:
        beat.stop()
        worker.stop()
    assert ticks["cron_ticks_seen"] >= 3, beat.tail()
    seconds = sorted(set(done["cron_ticks"]))
    assert len(seconds) == len(done["cron_ticks"]) == done["cron_runs"] and done["cron_open"] == 0
