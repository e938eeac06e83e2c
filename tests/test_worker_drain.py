"""A worker told to stop (SIGTERM) drains: it reports PAUSED in ``hatchet.workers`` while its
task in flight finishes on it, and no other worker takes that task meanwhile, even though
the task outlives a lease (leases keep being renewed while draining)."""

from __future__ import annotations

import os
import signal
import time

from hatchet_celery.testing import WorkerProcess
from tests.apps.core_procs import Sleep, hatchet, slow

TARGET = "tests.apps.core_procs:hatchet"
BOUND = 30.0


def _wait(what: str, check: object) -> None:
    deadline = time.monotonic() + BOUND
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} not seen within {BOUND:g}s"
        time.sleep(0.1)


def _status_of(name: str) -> str | None:
    for worker in hatchet.workers.list().rows or []:
        if worker.name == hatchet._registry.config.apply_namespace(name):
            return str(worker.status.value if worker.status else None)
    return None


def test_a_sigtermed_worker_reports_paused_and_finishes_its_task_without_handing_it_over() -> None:
    lease = hatchet._registry.config.lease_seconds
    a = WorkerProcess(TARGET, name="drain-a", slots=2).start()
    b = WorkerProcess(TARGET, name="drain-b", slots=2)
    try:
        ref = slow.run(Sleep(seconds=lease + 3), wait_for_result=False)
        client = hatchet._registry.client()

        def running() -> bool:
            state = client.fetch(ref.workflow_run_id)
            return state is not None and state.tasks["proc_slow"].status == "RUNNING"

        _wait("the task running on worker A", running)
        b.start()  # idle, there to take the task if worker A ever looked lost
        assert a.proc is not None
        os.kill(a.proc.pid, signal.SIGTERM)  # the parent only, as Hatchet's test does
        _wait("worker A PAUSED", lambda: _status_of("drain-a") == "PAUSED")
        assert _status_of("drain-b") == "ACTIVE"
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
