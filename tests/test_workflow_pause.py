"""Workflow pause / unpause: runs wait while paused (QUEUED, no slot), are cancelled past
the queue TTL, resume on unpause; crons and schedules are dropped or queued."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hatchet_celery import Context, EmptyModel, RunStatus
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


@hatchet.task(name="pause_short")
def pause_short(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"ok": "yes"}


pause_dag = hatchet.workflow(name="pause_dag")


@pause_dag.task()
def pause_first(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"first": "done"}


@pause_dag.task(parents=[pause_first])
def pause_second(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"second": "done"}


def _until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _status(run_id: str) -> RunStatus:
    status: RunStatus = hatchet.runs.get_details(run_id).status
    return status


def _task_status(redis_client: Any, run_id: str, task: str) -> str | None:
    return redis_client.hget(_keys().run(run_id), f"s:{task}")


def _keys() -> Any:
    return pause_short._registry.engine().keys


@pytest.fixture
def unpaused() -> Any:
    yield
    for wf in (pause_short, pause_dag):
        wf.unpause()


def test_paused_runs_wait_and_resume_on_unpause(redis_client: Any, unpaused: Any) -> None:
    row = pause_short.pause(queue_ttl=timedelta(minutes=5))
    assert row.is_paused
    assert hatchet.workflows.get(pause_short.id).is_paused
    refs = [pause_short.run_no_wait() for _ in range(5)]
    for ref in refs:  # parked by the gate, the run itself still QUEUED
        _until(
            lambda r=ref: (
                _task_status(redis_client, r.workflow_run_id, "pause_short") == "WAIT_PAUSED"
            ),
            "the task run to be parked",
        )
        assert _status(ref.workflow_run_id) == RunStatus.QUEUED
    row = pause_short.unpause()
    assert not row.is_paused
    for ref in refs:
        assert ref.result() == {"ok": "yes"}


def test_paused_runs_are_cancelled_after_the_queue_ttl(unpaused: Any) -> None:
    pause_short.pause(queue_ttl=timedelta(seconds=1))
    ref = pause_short.run_no_wait()
    _until(
        lambda: _status(ref.workflow_run_id) == RunStatus.CANCELLED,
        "the paused run to be cancelled",
    )
    pause_short.unpause()
    assert pause_short.run() == {"ok": "yes"}  # new runs go through again


def test_a_dag_child_waits_while_paused(redis_client: Any, unpaused: Any) -> None:
    pause_dag.pause(queue_ttl=timedelta(minutes=5))
    ref = pause_dag.run_no_wait()
    _until(
        lambda: _task_status(redis_client, ref.workflow_run_id, "pause_first") == "WAIT_PAUSED",
        "the root to be parked",
    )
    pause_dag.unpause()
    assert ref.result() == {"pause_first": {"first": "done"}, "pause_second": {"second": "done"}}


def test_schedules_dropped_while_paused(redis_client: Any, unpaused: Any) -> None:
    marker = uuid.uuid4().hex
    pause_short.pause(
        queue_ttl=timedelta(minutes=1),
        paused_workflow_scheduled_run_queue_behavior="DROP",
        paused_workflow_cron_run_queue_behavior="DROP",
    )
    sched = pause_short.schedule(
        datetime.now(UTC) + timedelta(seconds=0.5), additional_metadata={"pause_t": marker}
    )
    timers = _keys().timers
    _until(
        lambda: redis_client.zscore(timers, f"s|{sched.id}") is None,
        "the scheduled run to fire",
    )
    assert pause_short.list_runs(additional_metadata={"pause_t": marker}) == []


def test_schedules_queued_while_paused(unpaused: Any) -> None:
    marker = uuid.uuid4().hex
    pause_short.pause(queue_ttl=timedelta(minutes=1))
    pause_short.schedule(
        datetime.now(UTC) + timedelta(seconds=0.2), additional_metadata={"pause_t": marker}
    )
    _until(
        lambda: len(pause_short.list_runs(additional_metadata={"pause_t": marker})) == 1,
        "the scheduled run to be created",
    )
    (row,) = pause_short.list_runs(additional_metadata={"pause_t": marker})
    assert _status(row.metadata.id) == RunStatus.QUEUED
    pause_short.unpause()
    assert hatchet.runs.get_run_ref(row.metadata.id).result()["pause_short"] == {"ok": "yes"}


def test_pause_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="queue_ttl must be positive"):
        pause_short.pause(queue_ttl=timedelta(0))
    with pytest.raises(ValueError, match="'DROP' or 'QUEUE'"):
        pause_short.pause(
            queue_ttl=timedelta(seconds=5),
            paused_workflow_cron_run_queue_behavior="LATER",  # type: ignore[arg-type]
        )
