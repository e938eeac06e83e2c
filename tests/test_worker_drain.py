"""A worker told to stop (SIGTERM) drains: it reports PAUSED in ``hatchet.workers`` while its
task in flight finishes on it, and no other worker takes that task meanwhile, even though
the task outlives a lease (leases keep being renewed while draining). Its health check
(``ClientConfig.healthcheck``) says HEALTHY while it serves and UNHEALTHY while it drains."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request

from hatchet_celery.testing import WorkerProcess
from tests.apps.core_procs import Sleep, hatchet, slow

TARGET = "tests.apps.core_procs:hatchet"
BOUND = 30.0


def _wait(what: str, check: object) -> None:
    deadline = time.monotonic() + BOUND
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} not seen within {BOUND:g}s"
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _health(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            return r.status, json.loads(r.read())["status"]
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())["status"]


def _status_of(name: str) -> str | None:
    for worker in hatchet.workers.list().rows or []:
        if worker.name == hatchet._registry.config.apply_namespace(name):
            return str(worker.status.value if worker.status else None)
    return None


def test_a_sigtermed_worker_reports_paused_and_finishes_its_task_without_handing_it_over() -> None:
    lease = hatchet._registry.config.lease_seconds
    port = _free_port()
    health_env = {
        "HATCHET_CLIENT_WORKER_HEALTHCHECK_ENABLED": "true",
        "HATCHET_CLIENT_WORKER_HEALTHCHECK_PORT": str(port),
    }
    a = WorkerProcess(TARGET, name="drain-a", slots=2, env=health_env).start()
    b = WorkerProcess(TARGET, name="drain-b", slots=2)
    try:
        ref = slow.run(Sleep(seconds=lease + 3), wait_for_result=False)
        client = hatchet._registry.client()

        def running() -> bool:
            state = client.fetch(ref.workflow_run_id)
            return state is not None and state.tasks["proc_slow"].status == "RUNNING"

        _wait("the task running on worker A", running)
        assert _health(port) == (200, "HEALTHY")
        b.start()  # idle, there to take the task if worker A ever looked lost
        assert a.proc is not None
        os.kill(a.proc.pid, signal.SIGTERM)  # the parent only, as Hatchet's test does
        _wait("worker A PAUSED", lambda: _status_of("drain-a") == "PAUSED")
        assert _status_of("drain-b") == "ACTIVE"
        assert _health(port) == (503, "UNHEALTHY")  # draining: no new work
        out = ref.result()
        assert out["pid"] == a.pid  # finished where it started
        assert out["retry_count"] == 0
        state = client.fetch(ref.workflow_run_id)
        assert state is not None and state.tasks["proc_slow"].attempt == 0
        assert a.proc.wait(BOUND) == 0
        assert _status_of("drain-a") == "INACTIVE"
    finally:
        a.kill()
        b.kill()
