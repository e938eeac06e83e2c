"""Wait for a state, bounded, instead of sleeping and hoping it was reached.

A test that sleeps a fixed time and then asserts a state depends on how busy the machine is;
these helpers wait for the state itself (polling the run hash, which is cheap) and fail with
what they last saw once a generous bound passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hatchet_celery._protocol import RunStatus
from hatchet_celery.exceptions import HatchetCeleryError


class WaitTimeout(HatchetCeleryError, AssertionError):
    """The awaited state was not reached in time; the message says what was seen instead."""


def _wait_until(
    read: Callable[[], str | None], wanted: set[str], what: str, timeout: float, poll: float
) -> str:
    """Poll ``read`` until it returns one of ``wanted``; ``WaitTimeout`` saying what it
    last returned once ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while True:
        seen = read()
        if seen in wanted:
            return seen
        if time.monotonic() > deadline:
            raise WaitTimeout(
                f"{what} is {seen or 'not found'} after {timeout:g}s; "
                f"waited for {', '.join(sorted(wanted))}"
            )
        time.sleep(poll)


def wait_for_task_status(
    hatchet: Any, run_id: str, task: str, *statuses: str, timeout: float = 60.0
) -> str:
    """Wait until task ``task`` of run ``run_id`` is in one of ``statuses`` (the run hash's
    own statuses: ``QUEUED``, ``WAITING``, ``WAIT_WORKER``, ``COMPLETED``, ...); returns it."""
    client = hatchet._registry.client()

    def read() -> str | None:
        state = client.fetch(run_id)
        return str(state.tasks[task].status) if state and task in state.tasks else None

    return _wait_until(read, set(statuses), f"task {task!r} of run {run_id}", timeout, 0.02)


def wait_for_run_status(hatchet: Any, run_id: str, *statuses: str, timeout: float = 60.0) -> str:
    """Wait until run ``run_id`` is in one of ``statuses`` (``QUEUED``, ``RUNNING``,
    ``COMPLETED``, ``FAILED``, ``CANCELLED``); returns it."""
    client = hatchet._registry.client()

    def read() -> str | None:
        state = client.fetch(run_id)
        return str(state.status) if state is not None else None

    return _wait_until(read, {str(s) for s in statuses}, f"run {run_id}", timeout, 0.02)


def join(hatchet: Any, timeout: float = 60.0) -> None:
    """Wait until no run of ``hatchet``'s namespace is queued or running (every run
    created so far finished): a test's "drain the queues" step, as dramatiq's ``join``."""
    engine = hatchet._registry.engine()
    redis, keys = engine.store.redis, engine.keys
    deadline = time.monotonic() + timeout
    while True:
        pending = [
            run_id
            for run_id, status in _statuses(redis, keys, redis.zrange(keys.runs, 0, -1))
            if status in (RunStatus.QUEUED, RunStatus.RUNNING)
        ]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise WaitTimeout(
                f"{len(pending)} run(s) of namespace {hatchet.namespace!r} still queued or "
                f"running after {timeout:g}s, e.g. {', '.join(pending[:3])}"
            )
        time.sleep(0.05)


def _statuses(redis: Any, keys: Any, run_ids: list[str]) -> list[tuple[str, str | None]]:
    pipe = redis.pipeline(transaction=False)
    for run_id in run_ids:
        pipe.hget(keys.run(run_id), "st")
    return list(zip(run_ids, pipe.execute(), strict=True))


__all__ = ["WaitTimeout", "join", "wait_for_run_status", "wait_for_task_status"]
