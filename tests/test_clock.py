"""One clock drives the runtime: leases, retry backoff, timers and crons follow the time
a test sets, with no sleep.

``tests/apps/clock_app.py`` hands its ``Hatchet`` a clock read from a file this test
writes; its worker processes read the same file. Every delay here is an hour or more of
that clock, so nothing but the clock can make it pass while the test runs: a retry an hour
away runs once the clock is moved an hour on, a lease a worker took ten minutes for is
taken back once the clock passes it, and the beat fires a daily cron at the instant the
clock reaches its tick.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

NOW_FILE = Path(tempfile.mkdtemp(prefix="hc-clock-")) / "now"
os.environ["HC_TEST_CLOCK_FILE"] = str(NOW_FILE)
os.environ["HC_TEST_CLOCK_NAMESPACE"] = f"clock-{uuid.uuid4().hex[:8]}"

from hatchet_celery._runtime.timing.crons import load_all, tick_run_id  # noqa: E402
from hatchet_celery._runtime.timing.timer_kinds import TIMER_KINDS  # noqa: E402
from hatchet_celery._runtime.timing.timers import TimerPump  # noqa: E402
from hatchet_celery.beat import HatchetCrons  # noqa: E402
from hatchet_celery.testing import WorkerProcess, wait_for_task_status  # noqa: E402
from tests.apps import clock_app  # noqa: E402
from tests.apps.clock_app import HOUR, hatchet  # noqa: E402

TARGET = "tests.apps.clock_app:hatchet"
LEASE = 600.0  # seconds of the clock a claim holds its task run (HATCHET_CELERY_LEASE_SECONDS)
T = TypeVar("T")
T0 = datetime(2031, 3, 4, 8, 0, tzinfo=UTC).timestamp()  # a literal instant, far from now


def set_clock(at: float) -> None:
    partial = NOW_FILE.with_suffix(".new")
    partial.write_text(repr(at))
    partial.replace(NOW_FILE)  # atomic: a reader never sees half a number


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    set_clock(T0)
    yield


def worker(name: str) -> WorkerProcess:
    return WorkerProcess(
        TARGET, name=name, slots=2, env={"HATCHET_CELERY_LEASE_SECONDS": str(int(LEASE))}
    )


def timer_score(run_id: str, kind: str) -> float | None:
    """Due time of the ``kind`` timer of run ``run_id`` in the timer set, if one is armed."""
    engine = hatchet._registry.engine()
    for member, score in engine.store.redis.zrange(engine.keys.timers, 0, -1, withscores=True):
        if member.startswith(f"{kind}|") and f"|{run_id}|" in member:
            return float(score)
    return None


def eventually(read: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """``read()`` once it is not None (polled; bounded, generous)."""
    deadline = time.monotonic() + timeout
    while (value := read()) is None:
        assert time.monotonic() < deadline, f"{what}: not seen in {timeout:g}s"
        time.sleep(0.02)
    return value


def test_a_retry_backoff_ends_when_the_clock_says_so() -> None:
    with worker("clock-retry"):
        ref = clock_app.fails_once.run_no_wait()
        run_id = ref.workflow_run_id
        # the first attempt failed at T0 (the clock stands still): the retry is due an hour
        # of the clock later, and not before
        due = eventually(lambda: timer_score(run_id, "d"), "the retry's timer")
        assert due == T0 + HOUR
        set_clock(T0 + HOUR - 1)
        engine = hatchet._registry.engine()
        TimerPump(engine, TIMER_KINDS).run_once(engine.now())  # a pass one second early
        assert timer_score(run_id, "d") == T0 + HOUR  # left armed: not due yet
        assert wait_for_task_status(hatchet, run_id, "clock_retry", "QUEUED") == "QUEUED"
        set_clock(T0 + HOUR)
        assert ref.result() == {"retry_count": 1}


def test_a_lost_workers_lease_expires_when_the_clock_passes_it() -> None:
    first = worker("clock-lost-1").start()
    try:
        ref = clock_app.outlives_its_worker.run_no_wait()
        run_id = ref.workflow_run_id
        wait_for_task_status(hatchet, run_id, "clock_lost", "RUNNING")
        first.kill()  # a crash: nothing handed back, the lease stays until T0 + LEASE
    finally:
        first.stop()
        first.cleanup()
    with worker("clock-lost-2"):
        engine = hatchet._registry.engine()
        lease = eventually(
            lambda: next(
                (
                    s
                    for m, s in engine.store.redis.zrange(
                        engine.keys.leases, 0, -1, withscores=True
                    )
                    if run_id in m
                ),
                None,
            ),
            "the lease",
        )
        assert lease == T0 + LEASE
        set_clock(T0 + LEASE + 1)  # the new worker's reaper takes the task run back
        assert ref.result() == {"bodies": 2}


def test_the_beat_fires_a_daily_cron_when_the_clock_reaches_its_tick() -> None:
    crons = HatchetCrons(hatchet.celery_app)
    engine = hatchet._registry.engine()
    nine = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
    set_clock(nine.timestamp() - 0.5)
    crons.tick()
    (cron,) = [c for c in load_all(engine) if c.workflow_name.endswith("clock_daily")]
    run_id = tick_run_id(engine.config.namespace, cron.id, nine)
    assert not engine.store.redis.exists(engine.keys.run(run_id))
    set_clock(nine.timestamp() + 0.5)
    crons.tick()
    assert engine.store.redis.exists(engine.keys.run(run_id))
