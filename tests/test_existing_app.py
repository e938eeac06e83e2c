"""Hatchet tasks on a Celery app the user already has, beside plain Celery tasks, served by
the same workers; and the same tasks served by a plain ``celery -A module worker``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hatchet_celery.testing import WorkerProcess

ROOT = Path(__file__).resolve().parent.parent


def test_hatchet_tasks_live_on_the_users_app_beside_plain_tasks() -> None:
    from tests.apps.isolated import legacy_add, modern, users, users_app

    assert users.celery_app is users_app
    with WorkerProcess("tests.apps.isolated:users", name="users", slots=4):
        assert legacy_add.delay(2, 3).get(timeout=20) == 5
        out = modern.run()
    assert out["root_id"] == out["run"]  # Celery's root_id is the workflow run id
    assert out["task"] == "hatchet.users_app_modern.modern"


def test_plain_celery_worker_command_serves_the_example(redis_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "examples.dag",
            "worker",
            "--pool",
            "threads",
            "-c",
            "4",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        from examples.dag import dag_workflow

        started = time.time()
        result = dag_workflow.run()
        assert time.time() - started < 60
        assert result["step3"]["sum"] == (
            result["step1"]["random_number"] + result["step2"]["random_number"]
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
