"""Parse a run hash (see ``_keys.py`` and ``lua/_lib.lua``) into plain Python objects."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hatchet_celery._protocol import TERMINAL, RunStatus, TaskStatus
from hatchet_celery.exceptions import TaskRunError

TASK_FIELDS = {
    "s": "status",
    "a": "attempt",
    "c": "claim",
    "i": "id",
    "q": "queued_at",
    "b": "started_at",
    "f": "finished_at",
    "w": "worker",
    "o": "output",
    "e": "error",
    "x": "deadline",
}


@dataclass
class TaskState:
    name: str
    status: str = ""
    attempt: int = 0
    id: str = ""
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    worker: str = ""
    output: Any = None
    error: TaskRunError | None = None
    # the error of each failed attempt, by attempt number (0 = the first); ``error`` is the latest
    attempt_errors: dict[int, TaskRunError] = field(default_factory=dict)
    evicted: bool = False  # a durable task run evicted from its worker while it waits

    @property
    def has_output(self) -> bool:
        return self.output is not None


@dataclass
class RunState:
    id: str
    workflow: str
    status: str
    input: Any
    metadata: dict[str, Any]
    priority: int | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    parent_run_id: str | None
    parent_task_run_id: str | None
    child_index: int | None
    child_key: str | None
    tasks: dict[str, TaskState] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def failed_errors(self) -> list[TaskRunError]:
        return [t.error for t in self.tasks.values() if t.status == TaskStatus.FAILED and t.error]


def _float(v: str | None) -> float | None:
    return float(v) if v not in (None, "") else None


def parse_error(raw: str, task: str, task_run_id: str) -> TaskRunError:
    try:
        data = json.loads(raw)
    except ValueError:
        return TaskRunError(raw, "HatchetError", "", task_run_id, task)
    err = TaskRunError.from_dict(data)
    err.task_name = err.task_name or task
    err.task_run_external_id = err.task_run_external_id or task_run_id
    return err


def parse_run(run_id: str, h: dict[str, str]) -> RunState | None:
    if not h or "wf" not in h:
        return None
    state = RunState(
        id=run_id,
        workflow=h["wf"],
        status=h.get("st", RunStatus.QUEUED),
        input=json.loads(h["in"]) if h.get("in") else {},
        metadata=json.loads(h["md"]) if h.get("md") else {},
        priority=int(h["pr"]) if h.get("pr") else None,
        created_at=float(h.get("ct", 0)),
        started_at=_float(h.get("bt")),
        finished_at=_float(h.get("ft")),
        parent_run_id=h.get("par") or None,
        parent_task_run_id=h.get("ptr") or None,
        child_index=int(h["ci"]) if h.get("ci") else None,
        child_key=h.get("ck") or None,
    )
    for key, value in h.items():
        f, sep, task = key.partition(":")
        if not sep or f not in TASK_FIELDS or (f == "k"):
            continue
        t = state.tasks.get(task)
        if t is None:
            t = state.tasks[task] = TaskState(task)
        attr = TASK_FIELDS[f]
        if attr == "status":
            t.status = value
        elif attr == "attempt":
            t.attempt = int(value)
        elif attr in ("queued_at", "started_at", "finished_at"):
            setattr(t, attr, _float(value))
        elif attr == "output":
            t.output = json.loads(value) if value else None
        elif attr in ("id", "worker"):
            setattr(t, attr, value)
    for key, value in h.items():
        if key.startswith("e:") and key[2:] in state.tasks:
            t = state.tasks[key[2:]]
            t.error = parse_error(value, t.name, t.id)
        elif key.startswith("ea:"):  # fail.lua: ea:<task>:<attempt>
            name, _, number = key[3:].rpartition(":")
            if name in state.tasks and number.isdigit():
                t = state.tasks[name]
                t.attempt_errors[int(number)] = parse_error(value, t.name, t.id)
        elif key.startswith("ev:") and key[3:] in state.tasks:  # durable_evict.lua
            t = state.tasks[key[3:]]
            t.evicted = t.status == TaskStatus.SUSPENDED and value == h.get(f"c:{t.name}")
    # Tasks never created (blocked by a failed ancestor, unused on-failure) are not runs.
    state.tasks = {
        k: v
        for k, v in state.tasks.items()
        if v.status not in ("", TaskStatus.BLOCKED, TaskStatus.UNUSED)
    }
    return state
