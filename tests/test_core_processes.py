"""Real worker processes: two workers share one run, a SIGKILLed worker's task completes
on another, async tasks share one event loop per process, SIGTERM drains."""

from __future__ import annotations

import time

import pytest

from hatchet_celery.testing import WorkerProcess
from tests.apps.core_procs import Sleep, async_wait, fan, hatchet, noop, slow

TARGET = "tests.apps.core_procs:hatchet"


def _wait_until_running(run_id: str, task_name: str = "proc_slow") -> None:
    client = hatchet._registry.client()
    deadline = time.time() + 15
    while time.time() < deadline:
        state = client.fetch(run_id)
        task = state.tasks.get(task_name) if state else None
        if task is not None and task.status == "RUNNING":
            return
        time.sleep(0.05)
    pytest.fail(f"{task_name} of run {run_id} never started")


def test_two_worker_processes_share_one_run() -> None:
    with WorkerProcess(TARGET, name="w1", slots=2), WorkerProcess(TARGET, name="w2", slots=2):
        result = fan.run(Sleep(seconds=0.5))
    pids = {out["pid"] for out in result.values()}
    assert len(result) == 8
    assert len(pids) == 2  # 8 tasks of 0.5 s on 2+2 slots: both workers took a share


def test_task_of_a_sigkilled_worker_completes_on_another() -> None:
    first = WorkerProcess(TARGET, name="doomed", slots=2).start()
    try:
        ref = slow.run(Sleep(seconds=3.0), wait_for_result=False)
        _wait_until_running(ref.workflow_run_id)
        first.kill()
    finally:
        first.stop()
    killed_pid = first.pid
    with WorkerProcess(TARGET, name="rescuer", slots=2) as second:
        out = ref.result()
        assert out["pid"] == second.pid != killed_pid
    # a lost worker is not a failed attempt
    assert out["retry_count"] == 0


def test_async_tasks_share_one_event_loop_per_process() -> None:
    with WorkerProcess(TARGET, name="aio", slots=100):
        noop.run()  # warm up
        results = async_wait.run_many(
            [async_wait.create_bulk_run_item(Sleep(seconds=2.0)) for _ in range(100)]
        )
    assert len(results) == 100
    # one event loop in one process ran them all ...
    assert len({(r["pid"], r["loop"]) for r in results}) == 1
    # ... at once: some instant saw most of the 2 s awaits in flight together (one after
    # another, at most one would be), however long the busy machine took to deliver them
    events = sorted([(r["started"], 1) for r in results] + [(r["ended"], -1) for r in results])
    in_flight = peak = 0
    for _, step in events:
        in_flight += step
        peak = max(peak, in_flight)
    assert peak >= 50, peak


def test_sigterm_finishes_what_is_in_flight() -> None:
    worker = WorkerProcess(TARGET, name="drain", slots=2).start()
    try:
        ref = slow.run(Sleep(seconds=1.5), wait_for_result=False)
        _wait_until_running(ref.workflow_run_id)
        rc = worker.stop(grace=20)
    finally:
        worker.kill()
    assert rc == 0
    state = hatchet._registry.client().fetch(ref.workflow_run_id)
    assert state is not None and state.status == "COMPLETED"
