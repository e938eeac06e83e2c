"""The statuses of the Redis protocol, written once for Python and checked against Lua.

A run hash stores a task run's status in ``s:<task>`` and the run's in ``st`` (see
``_keys.py``); the Lua scripts in ``lua/`` write them as plain strings. These enums are
``str``-valued, so a member compares equal to what Redis returns; ``tests/test_protocol.py``
checks that every status a script writes or tests is one of them and that ``_lib.lua``'s
final set is ``FINAL_TASK``.
"""

from __future__ import annotations

from enum import Enum


class TaskStatus(str, Enum):
    """What ``s:<task>`` holds."""

    QUEUED = "QUEUED"  # a message is or will be in the broker
    RUNNING = "RUNNING"  # claimed by a worker (its lease in ``P:leases``)
    COMPLETED = "COMPLETED"
    SKIPPED = "SKIPPED"  # a skip_if condition held, or a parent was skipped
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    BLOCKED = "BLOCKED"  # an ancestor failed or was cancelled: it never runs
    UNUSED = "UNUSED"  # the on-failure task of a run that did not fail
    WAITING = "WAITING"  # held by the conditions gate
    SUSPENDED = "SUSPENDED"  # a durable task parked on a wait, holding no slot
    WAIT_CONCURRENCY = "WAIT_CONCURRENCY"  # parked by a concurrency gate
    WAIT_RATE_LIMIT = "WAIT_RATE_LIMIT"  # parked until its rate-limit units are free
    WAIT_WORKER = "WAIT_WORKER"  # no worker with its labels (or its sticky worker) yet
    WAIT_PAUSED = "WAIT_PAUSED"  # its workflow is paused
    WAIT_BATCH = "WAIT_BATCH"  # a batch member in its group's buffer

    def __str__(self) -> str:
        return self.value


class RunStatus(str, Enum):
    """What ``st`` holds."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    def __str__(self) -> str:
        return self.value


# A finished run's status (and a task run's that reported an outcome).
TERMINAL: frozenset[str] = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
# Task statuses after which nothing more happens to a task run (until a replay).
FINAL_TASK: frozenset[str] = frozenset(
    {
        TaskStatus.COMPLETED,
        TaskStatus.SKIPPED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.BLOCKED,
        TaskStatus.UNUSED,
    }
)

__all__ = ["FINAL_TASK", "TERMINAL", "RunStatus", "TaskStatus"]
