"""Priority: with one slot and a backlog, higher priority starts first, FIFO within one."""

from __future__ import annotations

import random
import time

from hatchet_celery import Priority
from hatchet_celery.testing import WorkerProcess
from tests.apps.flow_prio import Sleep, hatchet, prio_dag, prio_task

TARGET = "tests.apps.flow_prio:hatchet"


def _wait_running(run_id: str, task: str) -> None:
    client = hatchet._registry.client()
    deadline = time.time() + 15
    while time.time() < deadline:
        state = client.fetch(run_id)
        if state is not None and state.tasks.get(task) and state.tasks[task].status == "RUNNING":
            return
        time.sleep(0.02)
    raise AssertionError("the blocker never started")


def test_one_slot_backlog_runs_by_priority_then_fifo() -> None:
    rng = random.Random(7)
    priorities = [rng.choice([1, 2, 3]) for _ in range(24)]
    with WorkerProcess(TARGET, name="one-slot", slots=1):
        blocker = prio_task.run(Sleep(seconds=1.0), wait_for_result=False)
        _wait_running(blocker.workflow_run_id, "flow_prio_task")
        refs = prio_task.run_many(
            [prio_task.create_bulk_run_item(Sleep(), priority=Priority(p)) for p in priorities],
            wait_for_result=False,
        )
        results = [r.result() for r in refs]
    order = sorted(range(len(refs)), key=lambda i: results[i]["start"])
    started_priorities = [priorities[i] for i in order]
    assert started_priorities == sorted(priorities, reverse=True)
    for p in (1, 2, 3):
        same = [i for i in order if priorities[i] == p]
        assert same == sorted(same)  # FIFO within a priority


def test_children_keep_the_run_priority() -> None:
    with WorkerProcess(TARGET, name="one-slot-dag", slots=1):
        blocker = prio_task.run(Sleep(seconds=1.0), wait_for_result=False)
        _wait_running(blocker.workflow_run_id, "flow_prio_task")
        low = prio_task.run_many(
            [prio_task.create_bulk_run_item(Sleep(), priority=Priority.LOW) for _ in range(4)],
            wait_for_result=False,
        )
        high = prio_dag.run(Sleep(), priority=Priority.HIGH, wait_for_result=False)
        out = high.result()
        lows = [r.result()["start"] for r in low]
    # head and tail of the HIGH run both went ahead of the LOW backlog
    assert out["tail"]["start"] < min(lows)
    assert out["tail"]["priority"] == 3
