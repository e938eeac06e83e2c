"""Scheduled runs: ``wf.schedule`` and ``hatchet.scheduled``, fired by the workers' timer pump.

They fire on time, carry their input, metadata and priority, survive a worker restart
(and a time that passes while no worker runs), are created once even when the pump is
retried half-way, and can be listed, moved and deleted, one by one or in bulk.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import ClientConfig, Context, Hatchet
from hatchet_celery._runtime.timing import schedules
from hatchet_celery._runtime.timing.timer_kinds import TIMER_KINDS
from hatchet_celery._runtime.timing.timers import DONE, TimerPump
from hatchet_celery._timer_entries import ScheduledFire
from hatchet_celery.clients.rest.models.scheduled_run_status import ScheduledRunStatus
from hatchet_celery.clients.rest.models.scheduled_workflows_bulk_update_item import (
    ScheduledWorkflowsBulkUpdateItem,
)
from hatchet_celery.exceptions import TriggerNotFoundError
from hatchet_celery.testing import WorkerProcess
from tests.apps import hatchet, sched_worker


class EchoIn(BaseModel):
    text: str


sched_echo = hatchet.workflow(
    name="SchedEcho", input_validator=EchoIn, default_additional_metadata={"origin": "decl"}
)


@sched_echo.task()
def echo(input: EchoIn, ctx: Context) -> dict[str, Any]:
    return {"text": input.text, "metadata": ctx.additional_metadata, "priority": ctx.priority}


# A namespace without any worker: what is scheduled there is only stored, never fired.
idle = Hatchet(config=ClientConfig(namespace="sched_idle"))
parked = idle.workflow(name="SchedParked", input_validator=EchoIn)


@parked.task()
def parked_task(input: EchoIn, ctx: Context) -> dict[str, str]:
    return {"text": input.text}


def utcnow() -> datetime:
    return datetime.now(UTC)


def wait_for_run(client: Any, scheduled_id: str, timeout: float = 15.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        run_id = client.get(scheduled_id).workflow_run_id
        if run_id:
            return str(run_id)
        time.sleep(0.05)
    pytest.fail(f"scheduled run {scheduled_id} did not fire within {timeout}s")


def test_a_scheduled_run_fires_on_time_with_its_input_metadata_and_priority(worker: Any) -> None:
    run_at = utcnow() + timedelta(seconds=1.5)
    version = sched_echo.schedule(
        run_at, EchoIn(text="later"), additional_metadata={"who": "test"}, priority=3
    )
    assert version.scheduled_workflows[0].id == version.id
    assert hatchet.scheduled.get(version.id).workflow_run_id is None  # not before its time

    run_id = wait_for_run(hatchet.scheduled, version.id)
    out = sched_echo.get_run_ref(run_id).result()["echo"]
    assert out == {
        "text": "later",
        "metadata": {"origin": "decl", "who": "test"},
        "priority": 3,
    }
    state = hatchet._registry.client().fetch(run_id)
    assert state is not None
    assert 0 <= state.created_at - run_at.timestamp() < 1.0
    row = hatchet.scheduled.get(version.id)
    assert row.workflow_run_status is not None and row.workflow_run_status.value == "SUCCEEDED"


def test_a_scheduled_run_survives_a_worker_restart_and_a_time_with_no_worker() -> None:
    proc = WorkerProcess("tests.apps.sched_worker:hatchet", name="sched-restart", slots=4)
    proc.start()
    try:
        on_time_at = utcnow() + timedelta(seconds=9)
        while_down_at = utcnow() + timedelta(seconds=1)
        on_time = sched_worker.delayed.schedule(on_time_at, sched_worker.Note(text="on time"))
        while_down = sched_worker.delayed.schedule(
            while_down_at, sched_worker.Note(text="while down")
        )
        proc.stop()
        time.sleep(max(while_down_at.timestamp() + 0.5 - time.time(), 0))
        scheduled = sched_worker.hatchet.scheduled
        assert scheduled.get(while_down.id).workflow_run_id is None  # no worker: not fired
        proc.start()
        assert time.time() < on_time_at.timestamp() - 0.5, "worker restart took too long"

        late_run = wait_for_run(scheduled, while_down.id)
        assert sched_worker.delayed.get_run_ref(late_run).result()["stamp"]["text"] == (
            "while down"
        )
        run_id = wait_for_run(scheduled, on_time.id, timeout=20)
        out = sched_worker.delayed.get_run_ref(run_id).result()["stamp"]
    finally:
        proc.stop()
    state = sched_worker.hatchet._registry.client().fetch(run_id)
    assert state is not None
    assert 0 <= state.created_at - on_time_at.timestamp() < 1.0
    assert out["text"] == "on time" and out["ran_at"] >= on_time_at.timestamp()


def test_a_retried_timer_creates_the_same_run_once() -> None:
    engine = idle._registry.engine()
    keys = engine.keys
    row = idle.scheduled.create("SchedParked", utcnow() - timedelta(seconds=1), {"text": "x"}, {})
    entry = ScheduledFire(row.metadata.id)
    now = time.time()
    # A pump claims the timer, creates the run and dies before recording it ...
    first = engine.store.script("sched_fire", [keys.scheduled(row.metadata.id)], [now, "r-1"])
    run_id = first[1]
    TimerPump(engine, TIMER_KINDS).run_once(now)  # the retry after the claim lease
    # ... the retry reuses the recorded run id: one run, and the timer is gone.
    assert run_id == idle.scheduled.get(row.metadata.id).workflow_run_id
    runs = [r for r in engine.store.redis.zrange(keys.runs, 0, -1)]
    assert runs.count(run_id) == 1
    assert engine.store.redis.zscore(keys.timers, entry.member) is None
    assert schedules.fire_scheduled(engine, entry, now) is DONE  # a stray third firing
    assert idle._registry.client().fetch(run_id) is not None
    assert engine.store.redis.zrange(keys.runs, 0, -1).count(run_id) == 1


def test_create_get_list_update_and_delete(caplog: pytest.LogCaptureFixture) -> None:
    client = idle.scheduled
    far = utcnow() + timedelta(days=1)
    created = client.create("SchedParked", far, {"text": "a"}, {"customer_id": "a"})
    assert created.workflow_name == "sched_idle_SchedParked"
    assert created.trigger_at == far.replace(microsecond=created.trigger_at.microsecond)
    got = client.get(created.metadata.id)
    assert (got.input, got.additional_metadata) == ({"text": "a"}, {"customer_id": "a"})
    assert got.workflow_run_id is None

    listed = client.list(workflow_id=created.workflow_id, additional_metadata={"customer_id": "a"})
    assert created.metadata.id in [r.metadata.id for r in listed.rows or []]
    pending = client.list(statuses=[ScheduledRunStatus.SCHEDULED])
    assert created.metadata.id in [r.metadata.id for r in pending.rows or []]
    assert client.list(additional_metadata={"customer_id": "nobody"}).rows == []

    later = far + timedelta(hours=1)
    moved = client.update(created.metadata.id, later)
    assert abs(moved.trigger_at.timestamp() - later.timestamp()) < 1e-3
    engine = idle._registry.engine()
    member = f"s|{created.metadata.id}"
    assert engine.store.redis.zscore(engine.keys.timers, member) == pytest.approx(later.timestamp())

    client.delete(created.metadata.id)
    assert engine.store.redis.zscore(engine.keys.timers, member) is None
    with pytest.raises(TriggerNotFoundError):
        client.get(created.metadata.id)
    with pytest.raises(TriggerNotFoundError):
        client.delete(created.metadata.id)
    caplog.set_level(logging.WARNING)
    unknown = client.create("NoSuchWorkflow", far, {}, {})  # a worker may come later
    assert "'sched_idle_NoSuchWorkflow'" in caplog.text
    client.delete(unknown.metadata.id)


def test_naive_datetimes_are_utc() -> None:
    naive = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=2)
    row = idle.scheduled.create("SchedParked", naive, {"text": "n"}, {})
    assert row.trigger_at == naive.replace(tzinfo=UTC)
    idle.scheduled.delete(row.metadata.id)


def test_bulk_update_and_bulk_delete() -> None:
    client = idle.scheduled
    far = utcnow() + timedelta(days=3)
    a, b, c = (client.create("SchedParked", far, {"text": t}, {"batch": "bulk"}) for t in "abc")
    moved = client.bulk_update(
        [
            (a.metadata.id, far + timedelta(hours=1)),
            ScheduledWorkflowsBulkUpdateItem(id=b.metadata.id, trigger_at=far),
            ("missing-id", far),
        ]
    )
    assert moved.updated_ids == [a.metadata.id, b.metadata.id]
    assert [e.id for e in moved.errors] == ["missing-id"]

    gone = client.bulk_delete(scheduled_ids=[a.metadata.id])
    assert gone.deleted_ids == [a.metadata.id]
    with pytest.raises(ValueError):
        client.bulk_delete()
    gone = client.bulk_delete(additional_metadata={"batch": "bulk"})
    assert sorted(gone.deleted_ids) == sorted([b.metadata.id, c.metadata.id])
    assert client.list(additional_metadata={"batch": "bulk"}).rows == []


async def test_aio_twins() -> None:
    client = idle.scheduled
    row = await client.aio_create("SchedParked", utcnow() + timedelta(days=1), {"text": "x"}, {})
    assert (await client.aio_get(row.metadata.id)).metadata.id == row.metadata.id
    rows = (await client.aio_list(workflow_id="sched_idle_SchedParked")).rows or []
    assert row.metadata.id in [r.metadata.id for r in rows]
    await client.aio_update(row.metadata.id, utcnow() + timedelta(days=2))
    await client.aio_delete(row.metadata.id)
    with pytest.raises(TriggerNotFoundError):
        await client.aio_get(row.metadata.id)
    version = await parked.aio_schedule(utcnow() + timedelta(days=1), EchoIn(text="y"))
    stored = await client.aio_get(version.id)
    assert json.dumps(stored.input) == json.dumps({"text": "y"})
    await client.aio_bulk_delete(scheduled_ids=[version.id])
