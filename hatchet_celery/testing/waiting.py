"""Wait for a state, bounded, instead of sleeping and hoping it was reached.

A test that sleeps a fixed time and then asserts a state depends on how busy the machine is;
these helpers wait for the state itself (polling the run hash, which is cheap) and fail with
what they last saw once a generous bound passes.
"""

from __future__ import annotations

import time
from typing import Any

from hatchet_celery.exceptions import HatchetCeleryError


class WaitTimeout(HatchetCeleryError, AssertionError):
    """The awaited state was not reached in time; the message says what was seen instead."""


def wait_for_task_status(
    hatchet: Any, run_id: str, task: str, *statuses: str, timeout: float = 60.0
) -> str:
    """Wait until task ``task`` of run ``run_id`` is in one of ``statuses`` (the run hash's
    own statuses: ``QUEUED``, ``WAITING``, ``WAIT_WORKER``, ``COMPLETED``, ...); returns it."""
    client = hatchet._registry.client()
    deadline = time.monotonic() + timeout
    seen: str | None = None
    while True:
        state = client.fetch(run_id)
        if state is not None and task in state.tasks:
            seen = str(state.tasks[task].status)
            if seen in statuses:
                return seen
        if time.monotonic() > deadline:
            raise WaitTimeout(
                f"task {task!r} of run {run_id} is {seen or 'not found'} after {timeout:g}s; "
                f"waited for {', '.join(statuses)}"
            )
        time.sleep(0.02)


__all__ = ["WaitTimeout", "wait_for_task_status"]
