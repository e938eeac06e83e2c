"""What the pages show about runs, read through the ``Hatchet`` feature clients.

The runs listing is ``hatchet.runs.list`` (the same indexes as the CLI and the Python API);
one run is its run hash, parsed as ``hatchet.runs`` parses it, plus what only the hash
knows (tasks that never got a task run: ``BLOCKED``, ``UNUSED``, not yet released; the
gate a task is parked in; its registered waits). Nothing here writes, except through the
runs API's own actions (cancel, replay, trigger).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import hatchet_celery.dashboard.dag as dag
from hatchet_celery._protocol import FINAL_TASK, TERMINAL, RunStatus, TaskStatus
from hatchet_celery._runtime.core.state import parse_run
from hatchet_celery._timer_entries import SleepDue
from hatchet_celery.clients.rest.models.v1_task_status import V1TaskStatus

STATUSES = tuple(s.value for s in RunStatus)
WINDOWS = {"15m": 900, "1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800}
DEFAULT_WINDOW = "24h"
PAGE_SIZE = 50
STREAM_SHOWN = 1000  # put_stream chunks shown on a run page
FINAL = FINAL_TASK
# statuses a gate parks a task in, and what the page says about them
PARKED: dict[str, str] = {
    TaskStatus.WAITING: "waiting for its conditions (wait_for / skip_if / cancel_if)",
    TaskStatus.SUSPENDED: "durable task suspended on a wait (holds no slot)",
    TaskStatus.WAIT_CONCURRENCY: "queued behind a concurrency key",
    TaskStatus.WAIT_RATE_LIMIT: "waiting for rate-limit units",
    TaskStatus.WAIT_WORKER: "waiting for a worker with matching labels",
}


def fmt_time(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(start: float | None, end: float | None) -> str:
    if not start:
        return ""
    seconds = (end or time.time()) - start
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


# --- the runs listing ------------------------------------------------------------------------
@dataclass
class RunFilters:
    """The runs page's query string: ``status`` (repeatable), ``workflow``, ``window``,
    ``meta`` (``key=value``, repeatable) and ``page``."""

    statuses: list[str] = field(default_factory=list)
    workflow: str = ""
    window: str = DEFAULT_WINDOW
    metadata: dict[str, str] = field(default_factory=dict)
    page: int = 1
    size: int = PAGE_SIZE

    @classmethod
    def parse(cls, params: Any) -> RunFilters:
        """From Starlette's ``QueryParams`` (anything with ``getlist`` and ``get``)."""
        statuses = [s.upper() for s in params.getlist("status") if s.upper() in STATUSES]
        metadata: dict[str, str] = {}
        for text in params.getlist("meta"):  # key=value, repeated or comma-separated
            for pair in str(text).split(","):
                key, sep, value = pair.partition("=")
                if sep and key.strip():
                    metadata[key.strip()] = value.strip()
        window = str(params.get("window") or DEFAULT_WINDOW)
        try:
            page = max(1, int(params.get("page") or 1))
            size = min(500, max(1, int(params.get("limit") or PAGE_SIZE)))
        except ValueError:
            page, size = 1, PAGE_SIZE
        return cls(
            statuses=statuses,
            workflow=str(params.get("workflow") or "").strip(),
            window=window if window in WINDOWS else DEFAULT_WINDOW,
            metadata=metadata,
            page=page,
            size=size,
        )

    def query(self, **changes: Any) -> str:
        """This filter as a query string, with ``changes`` applied (for links)."""
        from urllib.parse import urlencode

        values: dict[str, Any] = {
            "status": self.statuses,
            "workflow": self.workflow,
            "window": self.window,
            "meta": [f"{k}={v}" for k, v in self.metadata.items()],
            "page": self.page,
        }
        values.update(changes)
        pairs: list[tuple[str, Any]] = []
        for key, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                if item not in ("", None):
                    pairs.append((key, item))
        return urlencode(pairs)


def list_runs(hatchet: Any, filters: RunFilters) -> dict[str, Any]:
    """One page of runs, newest first, as plain dicts (the JSON API's shape)."""
    now = datetime.now(UTC)
    since = datetime.fromtimestamp(now.timestamp() - WINDOWS[filters.window], UTC)
    result = hatchet.runs.list(
        since=since,
        until=now,
        offset=(filters.page - 1) * filters.size,
        limit=filters.size,
        statuses=[V1TaskStatus(s) for s in filters.statuses] or None,
        workflow_ids=[filters.workflow] if filters.workflow else None,
        additional_metadata=filters.metadata or None,
        include_payloads=False,
    )
    rows = []
    for row in result.rows:
        started = row.started_at.timestamp() if row.started_at else None
        finished = row.finished_at.timestamp() if row.finished_at else None
        rows.append(
            {
                "id": row.workflow_run_external_id,
                "workflow": row.workflow_name,
                "status": str(row.status.value),
                "created_at": row.created_at.timestamp(),
                "started_at": started,
                "finished_at": finished,
                "duration": fmt_duration(started, finished),
                "metadata": dict(row.additional_metadata or {}),
                "error": row.error_message,
            }
        )
    return {
        "rows": rows,
        "page": result.pagination.current_page,
        "next_page": result.pagination.next_page,
        "num_pages": result.pagination.num_pages,
    }


# --- one run ---------------------------------------------------------------------------------
def registry_of(hatchet: Any) -> Any:
    return hatchet._registry


def workflow_shape(hatchet: Any, workflow: str) -> tuple[dict[str, list[str]], str]:
    """``(parents per task, on-failure task)`` from the declaration here, else from the
    shape a worker registered in Redis; ``({}, "")`` when neither is known."""
    registry = registry_of(hatchet)
    declared = registry.workflows.get(workflow)
    if declared is not None and declared.tasks:
        shape = declared.compiled()
        return {k: list(v) for k, v in shape.parents.items()}, str(shape.on_failure)
    engine = registry.engine()
    raw = engine.store.redis.hget(engine.keys.workflows, workflow)
    if not raw:
        return {}, ""
    data = json.loads(raw)
    parents = {str(k): [str(p) for p in v] for k, v in (data.get("parents") or {}).items()}
    for name in data.get("tasks") or []:
        parents.setdefault(str(name), [])
    return parents, str(data.get("on_failure") or "")


def _json_field(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _conditions(engine: Any, wait: dict[str, Any], met: Mapping[str, Any]) -> list[str]:
    """One line per registered condition (layout: ``_runtime/waits/store.py``): its action,
    what it waits for (event key, or sleep and when it ends), and whether it is met."""
    lines = []
    for cond in wait.get("conds") or []:
        key = str(cond.get("key", ""))
        if cond.get("kind") == "sleep":
            member = str(cond.get("m", ""))
            due = engine.store.redis.zscore(engine.keys.timers, member) if member else None
            what = f"sleep {SleepDue.decode(member).sleep if member else ''}"
            if due and key not in met:
                what += f" (until {fmt_time(float(due))})"
        else:
            what = f"event {cond.get('ek', '')!r}"
        state = "met" if key in met else "waiting"
        lines.append(f"{cond.get('action', '')} on {what}, group {cond.get('group', '')}: {state}")
    return lines


def _waits(engine: Any, h: Mapping[str, str], task: str) -> dict[str, Any]:
    """What the hash says a task waits for: its conditions (met or not), the conditions
    decision, the schedule deadline, the durable checkpoints passed."""
    found: dict[str, Any] = {}
    met = {k.split(":", 2)[2]: _json_field(v) for k, v in h.items() if k.startswith(f"cv:{task}:")}
    wait = _json_field(h.get(f"cw:{task}"))
    if isinstance(wait, dict) and wait.get("conds"):
        found["conditions"] = _conditions(engine, wait, met)
    elif wait is not None:
        found["registered wait"] = wait
    if met:
        found["conditions met"] = met
    decision = h.get(f"cd:{task}")
    if decision:
        found["conditions decision"] = decision
    deadline = h.get(f"x:{task}")
    if deadline:
        found["schedule deadline"] = fmt_time(float(deadline))
    checkpoints = sorted(k.split(":", 2)[2] for k in h if k.startswith(f"cp:{task}:"))
    if checkpoints:
        found["durable checkpoints passed"] = len(checkpoints)
    return found


def _queue_positions(engine: Any, gate: str, holder: str) -> list[dict[str, Any]]:
    """Where ``holder`` waits in a concurrency gate: per key, its place in the queue."""
    redis = engine.store.redis
    raw = redis.hget(engine.keys.conc_state(gate), f"w:{holder}")
    if not raw:
        return []
    record = json.loads(raw)
    places = []
    for i, key in enumerate(record.get("k") or [], start=1):
        prefix = f"{i}:{len(str(key).encode())}:{key}:"
        entry = f"{prefix}{int(record.get('s') or 0):016d}:{holder}"
        ahead = redis.zlexcount(engine.keys.conc_queue(gate), f"[{prefix}", f"({entry}")
        places.append({"key": str(key), "position": int(ahead) + 1})
    return places


def _flow(hatchet: Any, workflow: str, task: str, run_id: str, status: str) -> dict[str, Any]:
    """The task's concurrency and rate-limit settings and, when it is parked behind a
    concurrency key, its place in that key's queue."""
    registry = registry_of(hatchet)
    declared = registry.workflows.get(workflow)
    found: dict[str, Any] = {}
    if declared is None:
        return found
    t = declared.task_map().get(task)
    exprs = [*(declared.config.concurrency if task in declared.compiled().roots else [])]
    exprs += list(t.concurrency) if t is not None else []
    if exprs:
        found["concurrency"] = [
            f"{getattr(e, 'expression', '')} (max {getattr(e, 'max_runs', '')}, "
            f"{getattr(getattr(e, 'limit_strategy', ''), 'value', '')})"
            for e in exprs
        ]
    if t is not None and t.rate_limits:
        found["rate limits"] = [
            f"{getattr(r, 'static_key', None) or getattr(r, 'dynamic_key', '')}"
            f" × {getattr(r, 'units', 1)}"
            for r in t.rate_limits
        ]
    if status == TaskStatus.WAIT_CONCURRENCY:
        engine = registry.engine()
        for gate, holder in (
            (f"t:{workflow}:{task}", f"{run_id}/{task}"),
            (f"w:{workflow}", run_id),
        ):
            places = _queue_positions(engine, gate, holder)
            if places:
                found["queue position"] = places
                break
    return found


def run_snapshot(hatchet: Any, run_id: str) -> dict[str, Any] | None:
    """The little the live view needs: run status and per task status and attempt."""
    registry = registry_of(hatchet)
    engine = registry.engine()
    h = engine.store.redis.hgetall(engine.keys.run(run_id))
    if not h or "wf" not in h:
        return None
    tasks: dict[str, dict[str, Any]] = {}
    for key, value in h.items():
        kind, sep, task = str(key).partition(":")
        if sep and kind in ("s", "a", "b", "f", "w", "i"):
            tasks.setdefault(task, {})[kind] = value
    # streamed chunks and log lines so far: the page fetches its details again when
    # they grow, not only when a status changes
    pipe = engine.store.redis.pipeline(transaction=False)
    pipe.llen(engine.keys.stream(run_id))
    for t in tasks.values():
        if t.get("i"):
            pipe.llen(engine.keys.logs(t["i"]))
    return {
        "id": run_id,
        "status": h.get("st", RunStatus.QUEUED.value),
        "done": h.get("st", RunStatus.QUEUED) in TERMINAL,
        "activity": sum(int(n) for n in pipe.execute()),
        "tasks": {
            name: {
                "status": t.get("s", "PENDING"),
                "attempt": int(t.get("a") or 0),
                "started_at": fmt_time(float(t["b"])) if t.get("b") else "",
                "finished_at": fmt_time(float(t["f"])) if t.get("f") else "",
                "worker": t.get("w", ""),
            }
            for name, t in tasks.items()
        },
    }


def run_view(hatchet: Any, run_id: str, with_logs: bool = True) -> dict[str, Any] | None:
    """Everything ``/runs/{run_id}`` shows; ``None`` when the run is unknown or expired."""
    registry = registry_of(hatchet)
    engine = registry.engine()
    h: dict[str, str] = {
        str(k): str(v) for k, v in engine.store.redis.hgetall(engine.keys.run(run_id)).items()
    }
    state = parse_run(run_id, h)
    if state is None:
        return None
    parents, on_failure = workflow_shape(hatchet, state.workflow)
    raw_status = {k[2:]: v for k, v in h.items() if k.startswith("s:")}
    for name in raw_status:
        parents.setdefault(name, [])
    statuses = {name: raw_status.get(name, "PENDING") for name in parents}
    workers = {w.metadata.id: w.name for w in hatchet.workers.list().rows}
    tasks = []
    for name in parents:
        t = state.tasks.get(name)
        status = statuses[name]
        logs: list[dict[str, str]] = []
        if t is not None and t.id and with_logs:
            logs = [
                {
                    "at": line.created_at.strftime("%H:%M:%S.%f")[:-3],
                    "level": str(line.level.value) if line.level else "",
                    "message": line.message,
                }
                for line in hatchet.logs.list(t.id).rows
            ]
        error = None
        if t is not None and t.error is not None:
            error = {"type": t.error.exc_type, "message": t.error.exc, "trace": t.error.trace}
        attempt_errors = [
            {"attempt": n, "type": e.exc_type, "message": e.exc, "trace": e.trace}
            for n, e in sorted((t.attempt_errors if t is not None else {}).items())
        ]
        tasks.append(
            {
                "name": name,
                "status": status,
                "parked": PARKED.get(status, ""),
                "parents": parents[name],
                "id": t.id if t else "",
                "attempt": t.attempt if t else int(h.get(f"a:{name}") or 0),
                "queued_at": fmt_time(t.queued_at if t else None),
                "started_at": fmt_time(t.started_at if t else None),
                "finished_at": fmt_time(t.finished_at if t else None),
                "duration": fmt_duration(t.started_at, t.finished_at) if t else "",
                "worker": workers.get(t.worker, t.worker) if t else "",
                "output": pretty(t.output) if t is not None and t.output is not None else "",
                "error": error,
                "attempt_errors": attempt_errors,
                "logs": logs,
                "waits": {} if status in FINAL else _waits(engine, h, name),
                "flow": _flow(hatchet, state.workflow, name, run_id, status),
                "on_failure": name == on_failure,
            }
        )
    children = child_runs(hatchet, run_id)
    chunks = engine.store.redis.lrange(engine.keys.stream(run_id), 0, STREAM_SHOWN - 1)
    return {
        "id": state.id,
        "workflow": state.workflow,
        "status": state.status,
        "done": state.done,
        "created_at": fmt_time(state.created_at),
        "started_at": fmt_time(state.started_at),
        "finished_at": fmt_time(state.finished_at),
        "duration": fmt_duration(state.started_at, state.finished_at),
        "input": pretty(state.input),
        "metadata": state.metadata,
        "priority": state.priority,
        "parent_run_id": state.parent_run_id,
        "parent_task_run_id": state.parent_task_run_id,
        "children": children,
        "stream": "".join(str(c) for c in chunks),
        "tasks": tasks,
        "statuses": statuses,
        "svg": dag.render_svg(parents, statuses, on_failure),
    }


def child_runs(hatchet: Any, run_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Runs spawned by this run's tasks (the parent index), newest first."""
    result = hatchet.runs.list(
        since=datetime.fromtimestamp(0, UTC),
        parent_task_external_id=run_id,
        limit=limit,
        include_payloads=False,
    )
    return [
        {
            "id": row.workflow_run_external_id,
            "workflow": row.workflow_name,
            "status": str(row.status.value),
        }
        for row in result.rows
    ]


__all__ = [
    "PAGE_SIZE",
    "STATUSES",
    "WINDOWS",
    "RunFilters",
    "child_runs",
    "list_runs",
    "run_snapshot",
    "run_view",
    "workflow_shape",
]
