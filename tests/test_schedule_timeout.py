"""``schedule_timeout`` holds with no worker up: a run whose task is never picked up fails
with SCHEDULING_TIMED_OUT instead of blocking ``result()`` forever.

No worker serves this module's namespace, so nobody pumps its timers: the process waiting
on the run expires the task run itself (``deadlines.sweep``), and celery beat expires the
runs nobody waits on (``deadlines.sweep_due``). A worker's pump that meets the deadline of
a task it does not declare expires it too (``deadlines.expire_undeclared``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet
from hatchet_celery._runtime.timing.timer_kinds import TIMER_KINDS
from hatchet_celery._runtime.timing.timers import TimerPump
from hatchet_celery.beat import HatchetCrons

hatchet = Hatchet(config=ClientConfig(namespace="noworker"))
BOUND = 30.0  # generous: the deadline is 1 s, the sweep runs every second


@hatchet.task(name="never_picked", schedule_timeout=timedelta(seconds=1))
def never_picked(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {}


dag = hatchet.workflow(name="noworker_dag")


@dag.task(schedule_timeout=timedelta(seconds=1))
def first(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {}


@dag.task(parents=[first])
def second(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {}


def _within(seconds: float, fn: Callable[[], Any]) -> BaseException | None:
    """Run ``fn`` in a thread; the exception it raised (None if it returned), or fail the
    test when it is still blocked after ``seconds``."""
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            fn()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still blocked after {seconds:g}s"
    return outcome[0]


def _status(run_id: str, task: str) -> str:
    state = hatchet._registry.client().fetch(run_id)
    assert state is not None
    return str(state.tasks[task].status)


def test_run_raises_scheduling_timed_out_with_no_worker_up() -> None:
    exc = _within(BOUND, never_picked.run)
    assert exc is not None and "SCHEDULING_TIMED_OUT" in str(exc), exc
    assert "never_picked" in str(exc)


def test_aio_run_raises_scheduling_timed_out_with_no_worker_up() -> None:
    async def main() -> None:
        await asyncio.wait_for(never_picked.aio_run(), BOUND)

    with pytest.raises(Exception, match="SCHEDULING_TIMED_OUT"):
        asyncio.run(main())


def test_the_descendants_of_an_expired_task_never_run_and_the_run_fails() -> None:
    ref = dag.run_no_wait()
    exc = _within(BOUND, ref.result)
    assert exc is not None and "SCHEDULING_TIMED_OUT" in str(exc), exc
    assert _status(ref.workflow_run_id, "first") == "FAILED"
    engine = hatchet._registry.engine()
    run = engine.keys.run(ref.workflow_run_id)
    assert engine.store.redis.hmget(run, "s:second", "st") == ["BLOCKED", "FAILED"]


def test_a_pump_expires_the_deadline_of_a_task_it_does_not_declare(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = hatchet._registry.engine()
    run_id = never_picked.run_no_wait().workflow_run_id
    assert _status(run_id, "never_picked") == "QUEUED"
    # this process's pump, as a worker's that serves other workflows only
    name = next(n for n in engine.registry.tasks if n.endswith("never_picked.never_picked"))
    monkeypatch.delitem(engine.registry.tasks, name)
    TimerPump(engine, TIMER_KINDS).run_once(time.time() + 10)  # past the 1 s deadline
    assert _status(run_id, "never_picked") == "FAILED"
    assert not [m for m in engine.store.redis.zrange(engine.keys.timers, 0, -1) if run_id in str(m)]
    monkeypatch.undo()
    with pytest.raises(Exception, match="SCHEDULING_TIMED_OUT"):
        hatchet.runs.get_run_ref(run_id).result()


def test_celery_beat_expires_a_run_that_nobody_waits_on() -> None:
    run_id = never_picked.run_no_wait().workflow_run_id
    beat = HatchetCrons(hatchet.celery_app)
    assert beat.registries == [hatchet._registry]
    deadline = time.monotonic() + BOUND
    while _status(run_id, "never_picked") != "FAILED":
        assert time.monotonic() < deadline, _status(run_id, "never_picked")
        beat.tick()  # what the beat's loop does, about once a second
        time.sleep(0.1)
    state = hatchet._registry.client().fetch(run_id)
    assert state is not None and state.status == "FAILED"
    with pytest.raises(Exception, match="SCHEDULING_TIMED_OUT"):
        hatchet.runs.get_run_ref(run_id).result()
