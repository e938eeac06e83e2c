"""What the other pages show: workflows, workers, crons, events, flow control, metrics,
plain Celery tasks; and the trigger action (input validated against the input model).

Everything is read through the ``Hatchet`` feature clients, except three things only the
coordination store knows and no client lists: the concurrency gates' holders and waiters,
the task statuses of the active runs (slots in use, parked tasks) and the last hour's run
timings for the plots. Those are read-only looks at the keys ``_keys.py`` names.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from pydantic import ValidationError

import hatchet_celery.dashboard.source as source
from hatchet_celery.dashboard.plots import line_plot

HOUR = 3600.0
SAMPLE_LIMIT = 5000  # runs of the last hour read for the plots and the latency figures
ACTIVE_LIMIT = 2000  # active runs read for slots in use and parked tasks
PLOTTED_WORKFLOWS = 6  # the busiest workflows of the hour get a line of their own


def _registry(hatchet: Any) -> Any:
    return hatchet._registry


def _engine(hatchet: Any) -> Any:
    return _registry(hatchet).engine()


# --- workflows and the trigger action --------------------------------------------------------
def workflow_names(hatchet: Any) -> list[str]:
    return [w.name for w in hatchet.workflows.list().rows]


def _declared(hatchet: Any, name: str) -> Any:
    registry = _registry(hatchet)
    return registry.workflows.get(registry.config.apply_namespace(name)) if name else None


def input_schema(hatchet: Any, workflow: str) -> dict[str, Any] | None:
    """The JSON schema of a declared workflow's input model (a hint on the trigger form)."""
    declared = _declared(hatchet, workflow)
    if declared is None:
        return None
    try:
        schema: dict[str, Any] = declared._input_adapter.json_schema()
    except Exception:  # a model pydantic cannot describe still validates
        return None
    return schema


def _validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {
            "field": ".".join(str(p) for p in err["loc"]) or "input",
            "message": str(err["msg"]),
        }
        for err in exc.errors()
    ]


def trigger(
    hatchet: Any, workflow: str, input_text: str, meta_text: str
) -> str | list[dict[str, str]]:
    """Trigger ``workflow``: the new run id, or the errors to show beside the fields."""
    errors: list[dict[str, str]] = []
    if not workflow:
        errors.append({"field": "workflow", "message": "choose a workflow"})
    values: dict[str, Any] = {}
    for field_name, text in (("input", input_text), ("metadata", meta_text)):
        try:
            value = json.loads(text or "{}")
        except ValueError as exc:
            errors.append({"field": field_name, "message": f"not valid JSON: {exc}"})
            continue
        if not isinstance(value, dict):
            errors.append({"field": field_name, "message": "must be a JSON object"})
            continue
        values[field_name] = value
    if errors:
        return errors
    declared = _declared(hatchet, workflow)
    if declared is not None:
        try:
            declared._input_adapter.validate_python(values["input"])
        except ValidationError as exc:
            return [{**e, "field": f"input.{e['field']}"} for e in _validation_errors(exc)]
    try:
        details = hatchet.runs.create(workflow, values["input"], values["metadata"])
    except ValidationError as exc:
        return [{**e, "field": f"input.{e['field']}"} for e in _validation_errors(exc)]
    except ValueError as exc:  # unknown workflow, bad options
        return [{"field": "workflow", "message": str(exc)}]
    return str(details.run.metadata.id)


def _task_row(task: Any) -> dict[str, Any]:
    return {
        "name": task.name,
        "parents": [p.name for p in task.parents],
        "kind": "durable" if task.is_durable else str(task.kind),
        "retries": task.retries,
        "execution_timeout_s": task.execution_timeout_s,
        "schedule_timeout_s": task.schedule_timeout_s,
        "concurrency": [_concurrency_row(c) for c in task.concurrency],
        "rate_limits": [_rate_limit_row(r) for r in task.rate_limits],
        "labels": [str(label) for label in task.desired_worker_labels],
    }


def _concurrency_row(expr: Any) -> dict[str, Any]:
    return {
        "expression": str(getattr(expr, "expression", "")),
        "max_runs": getattr(expr, "max_runs", None),
        "strategy": str(getattr(getattr(expr, "limit_strategy", ""), "value", "")),
    }


def _rate_limit_row(limit: Any) -> dict[str, Any]:
    return {
        "key": getattr(limit, "static_key", None) or getattr(limit, "dynamic_key", None),
        "units": getattr(limit, "units", None),
        "limit": getattr(limit, "limit", None),
    }


def workflows(hatchet: Any) -> list[dict[str, Any]]:
    """Every known workflow: its shape, triggers, flow-control settings and crons."""
    registry = _registry(hatchet)
    engine = registry.engine()
    registered = engine.store.redis.hgetall(engine.keys.workflows)
    cron_rows = hatchet.cron.list().rows
    rows = []
    for name in workflow_names(hatchet):
        declared = registry.workflows.get(name)
        parents, on_failure = source.workflow_shape(hatchet, name)
        shape: dict[str, Any] = json.loads(registered.get(name) or "{}")
        rows.append(
            {
                "name": name,
                "declared_here": declared is not None,
                "description": getattr(getattr(declared, "config", None), "description", None),
                "on_events": list(declared.config.on_events)
                if declared
                else shape.get("on_events", []),
                "on_crons": list(declared.config.on_crons)
                if declared
                else shape.get("on_crons", []),
                "concurrency": [_concurrency_row(c) for c in declared.config.concurrency]
                if declared
                else [],
                "tasks": [_task_row(t) for t in declared.tasks]
                if declared
                else [{"name": n, "parents": parents[n]} for n in parents],
                "input": getattr(declared.input_validator, "__name__", "dict")
                if declared
                else shape.get("input_validator", ""),
                "crons": [
                    {"name": c.name, "cron": c.cron, "id": c.metadata.id}
                    for c in cron_rows
                    if c.workflow_name == name
                ],
                "svg": _shape_svg(parents, on_failure),
            }
        )
    return rows


def _shape_svg(parents: dict[str, list[str]], on_failure: str) -> str:
    import hatchet_celery.dashboard.dag as dag

    return dag.render_svg(parents, {n: "SHAPE" for n in parents}, on_failure)


# --- workers, crons, events -------------------------------------------------------------------
def active_tasks(hatchet: Any) -> list[tuple[str, str, str, str]]:
    """``(run id, task, status, worker)`` of the task runs of the queued and running runs."""
    engine = _engine(hatchet)
    redis = engine.store.redis
    now = time.time()
    ids: list[str] = []
    for status in ("QUEUED", "RUNNING"):
        page = hatchet_runs_ids(engine, status, now)
        ids.extend(page)
    pipe = redis.pipeline(transaction=False)
    for run_id in ids[:ACTIVE_LIMIT]:
        pipe.hgetall(engine.keys.run(run_id))
    found = []
    for run_id, h in zip(ids, pipe.execute(), strict=False):
        for key, value in h.items():
            kind, sep, task = str(key).partition(":")
            if sep and kind == "s":
                found.append((run_id, task, str(value), str(h.get(f"w:{task}", ""))))
    return found


def hatchet_runs_ids(engine: Any, status: str, now: float) -> list[str]:
    from hatchet_celery._runtime import run_index

    src = run_index.status_source(engine.keys, status, now - 7 * 86400, now + 60)
    ids = engine.store.redis.zrevrangebyscore(
        src.key, repr(src.hi), repr(src.lo), start=0, num=ACTIVE_LIMIT
    )
    return [str(i) for i in ids]


Active = list[tuple[str, str, str, str]]


def workers(hatchet: Any, active: Active | None = None) -> list[dict[str, Any]]:
    used: dict[str, int] = {}
    for _, _, status, worker in active if active is not None else active_tasks(hatchet):
        if status == "RUNNING" and worker:
            used[worker] = used.get(worker, 0) + 1
    rows = []
    for w in hatchet.workers.list().rows:
        slots = w.slot_config["default"].limit if w.slot_config else None
        rows.append(
            {
                "id": w.metadata.id,
                "name": w.name,
                "status": str(getattr(w.status, "value", w.status)),
                "slots": slots,
                "used": used.get(w.metadata.id, 0),
                "labels": {label.key: label.value for label in w.labels or []},
                "last_heartbeat": w.last_heartbeat_at.timestamp() if w.last_heartbeat_at else None,
                "started": w.metadata.created_at.timestamp(),
            }
        )
    return rows


def crons(hatchet: Any) -> dict[str, Any]:
    return {
        "crons": [
            {
                "id": c.metadata.id,
                "name": c.name,
                "workflow": c.workflow_name,
                "cron": c.cron,
                "method": str(getattr(c.method, "value", c.method)),
                "enabled": c.enabled,
                "input": c.input,
            }
            for c in hatchet.cron.list().rows
        ],
        "scheduled": [
            {
                "id": s.metadata.id,
                "workflow": s.workflow_name,
                "trigger_at": s.trigger_at.timestamp() if s.trigger_at else None,
                "status": str(getattr(s.workflow_run_status, "value", s.workflow_run_status))
                if s.workflow_run_status
                else "SCHEDULED",
                "run_id": s.workflow_run_id,
            }
            for s in hatchet.scheduled.list().rows
        ],
        "workflows": workflow_names(hatchet),
    }


def create_cron(hatchet: Any, form: dict[str, Any]) -> str | None:
    """Create a cron from the crons page's form; the error message, or ``None``."""
    try:
        payload = json.loads(str(form.get("input") or "{}"))
        hatchet.cron.create(
            str(form.get("workflow") or ""),
            str(form.get("name") or ""),
            str(form.get("expression") or ""),
            payload if isinstance(payload, dict) else {},
            {},
        )
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def create_scheduled(hatchet: Any, form: dict[str, Any]) -> str | None:
    """Schedule a run from the crons page's form (``trigger_at`` in UTC); the error, or
    ``None``."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(str(form.get("trigger_at") or ""))
        payload = json.loads(str(form.get("input") or "{}"))
        hatchet.scheduled.create(
            str(form.get("workflow") or ""),
            when if when.tzinfo else when.replace(tzinfo=UTC),
            payload if isinstance(payload, dict) else {},
            {},
        )
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def events(hatchet: Any, limit: int = 100) -> dict[str, Any]:
    rows = hatchet.event.list(limit=limit).rows
    return {
        "events": [
            {
                "id": e.metadata.id,
                "key": e.key,
                "at": e.metadata.created_at.timestamp(),
                "payload": e.payload,
                "metadata": e.additional_metadata,
                "scope": e.scope,
                "runs": [r.workflow_run_id for r in getattr(e, "triggered_runs", None) or []],
            }
            for e in rows
        ],
        "filters": [
            {
                "id": f.metadata.id,
                "workflow": f.workflow_id,
                "scope": f.scope,
                "expression": f.expression,
                "payload": f.payload,
            }
            for f in hatchet.filters.list().rows
        ],
    }


# --- flow control ------------------------------------------------------------------------------
def _gates(hatchet: Any) -> list[tuple[str, str]]:
    """``(gate, what)`` of every declared concurrency setting (``_runtime/concurrency.py``)."""
    gates = []
    for wf in _registry(hatchet).workflows.values():
        if wf.config.concurrency:
            gates.append((f"w:{wf.name}", f"workflow {wf.name}"))
        for task in wf.tasks:
            if task.concurrency:
                gates.append((f"t:{wf.name}:{task.name}", f"task {wf.name}.{task.name}"))
    return gates


def flow_control(hatchet: Any, active: Active | None = None) -> dict[str, Any]:
    """Per concurrency key: holders and waiters (oldest first); per rate limit: units left;
    and how many task runs wait in each gate status."""
    engine = _engine(hatchet)
    keys = []
    for gate, what in _gates(hatchet):
        h = engine.store.redis.hgetall(engine.keys.conc_state(gate))
        per_key: dict[tuple[int, str], dict[str, Any]] = {}
        for field_name, value in h.items():
            kind, _, rest = str(field_name).partition(":")
            if kind not in ("h", "w"):
                continue
            record = json.loads(value)
            for i, key in enumerate(record.get("k") or [], start=1):
                entry = per_key.setdefault(
                    (i, str(key)),
                    {
                        "gate": what,
                        "expression": i,
                        "key": str(key),
                        "max": int(h.get(f"m:{i}:{key}") or 1),
                        "holders": [],
                        "waiters": [],
                    },
                )
                group = entry["holders" if kind == "h" else "waiters"]
                group.append((int(record.get("s") or 0), rest))
        for entry in per_key.values():
            entry["holders"] = [holder for _, holder in sorted(entry["holders"])]
            entry["waiters"] = [holder for _, holder in sorted(entry["waiters"])]
            keys.append(entry)
    parked: dict[str, int] = {}
    for _, _, status, _ in active if active is not None else active_tasks(hatchet):
        if status in source.PARKED:
            parked[status] = parked.get(status, 0) + 1
    limits = [
        {
            "key": r.key,
            "limit": r.limit_value,
            "left": r.value,
            "window": r.window,
            "paused_until": r.paused_until.timestamp() if r.paused_until else None,
        }
        for r in hatchet.rate_limits.list().rows
    ]
    return {"concurrency": keys, "rate_limits": limits, "parked": parked}


# --- metrics -----------------------------------------------------------------------------------
def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def last_hour(hatchet: Any, now: float | None = None) -> list[dict[str, Any]]:
    """``wf, st, ct, bt, ft`` of the runs created in the last hour (newest first, capped)."""
    engine = _engine(hatchet)
    redis = engine.store.redis
    now = now or time.time()
    ids = redis.zrevrangebyscore(engine.keys.runs, now, now - HOUR, start=0, num=SAMPLE_LIMIT)
    pipe = redis.pipeline(transaction=False)
    for run_id in ids:
        pipe.hmget(engine.keys.run(str(run_id)), ["wf", "st", "ct", "bt", "ft"])
    runs = []
    for values in pipe.execute():
        wf, st, ct, bt, ft = values
        if wf is None or ct is None:
            continue
        runs.append(
            {
                "wf": str(wf),
                "st": str(st or "QUEUED"),
                "ct": float(ct),
                "bt": float(bt) if bt else None,
                "ft": float(ft) if ft else None,
            }
        )
    return runs


def metrics(hatchet: Any, now: float | None = None, buckets: int = 60) -> dict[str, Any]:
    """Per minute of the last hour: runs finished (throughput), runs waiting to start
    (queue depth), and per workflow latency (created → finished) p50 / p95."""
    now = now or time.time()
    runs = last_hour(hatchet, now)
    step = HOUR / buckets
    starts = [now - HOUR + i * step for i in range(buckets)]
    throughput = [0] * buckets
    depth = [0] * buckets
    latency: dict[str, list[float]] = {}
    per_minute: list[list[float]] = [[] for _ in range(buckets)]
    wf_minutes: dict[str, list[list[float]]] = {}
    for r in runs:
        if r["ft"] is not None and r["st"] in ("COMPLETED", "FAILED", "CANCELLED"):
            i = int((r["ft"] - (now - HOUR)) // step)
            if 0 <= i < buckets:
                throughput[i] += 1
                per_minute[i].append(r["ft"] - r["ct"])
                minutes = wf_minutes.setdefault(r["wf"], [[] for _ in range(buckets)])
                minutes[i].append(r["ft"] - r["ct"])
            latency.setdefault(r["wf"], []).append(r["ft"] - r["ct"])
        for i, start in enumerate(starts):
            end = start + step
            began = r["bt"] if r["bt"] is not None else r["ft"]
            if r["ct"] <= end and (began is None or began > end):
                depth[i] += 1
    counts = hatchet.metrics.get_task_metrics().model_dump()
    return {
        "window_start": now - HOUR,
        "step": step,
        "sampled_runs": len(runs),
        "throughput": throughput,
        "queue_depth": depth,
        "latency_p50": [_percentile(m, 0.5) for m in per_minute],
        "latency_p95": [_percentile(m, 0.95) for m in per_minute],
        "per_workflow": {
            wf: {
                "finished": len(values),
                "p50": _percentile(values, 0.5),
                "p95": _percentile(values, 0.95),
            }
            for wf, values in sorted(latency.items())
        },
        "series": {
            wf: {
                "throughput": [len(m) for m in minutes],
                "p50": [_percentile(m, 0.5) for m in minutes],
                "p95": [_percentile(m, 0.95) for m in minutes],
            }
            for wf, minutes in sorted(
                wf_minutes.items(), key=lambda item: -sum(len(m) for m in item[1])
            )[:PLOTTED_WORKFLOWS]
        },
        "counts": counts,
    }


def plots(data: dict[str, Any]) -> list[dict[str, str]]:
    series = data["series"]
    return [
        {
            "title": "Throughput (runs finished per minute)",
            "svg": line_plot(
                [("all", data["throughput"])] + [(wf, v["throughput"]) for wf, v in series.items()]
            ),
        },
        {
            "title": "Queue depth (runs created, not started)",
            "svg": line_plot([("waiting", data["queue_depth"])]),
        },
        {
            "title": "Latency p50, created → finished (seconds), per workflow",
            "svg": line_plot([(wf, v["p50"]) for wf, v in series.items()]),
        },
        {
            "title": "Latency p95, created → finished (seconds), per workflow",
            "svg": line_plot([(wf, v["p95"]) for wf, v in series.items()]),
        },
    ]


# --- plain Celery tasks --------------------------------------------------------------------------
class CeleryActivity:
    """The app's plain ``@app.task`` activity, from Celery events (workers started with
    ``-E`` / ``worker_send_task_events``). Hatchet tasks (``hatchet.*``) are left out:
    the runs pages show them. Kept in memory, newest first, the last ``keep`` tasks."""

    def __init__(self, hatchet: Any, keep: int = 500) -> None:
        self.hatchet = hatchet
        self.tasks: dict[str, dict[str, Any]] = {}
        self.order: deque[str] = deque(maxlen=keep)
        self.lock = threading.Lock()
        self.seen_events = 0
        self.error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._receiver: Any = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="hc-dashboard-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        receiver = self._receiver
        if receiver is not None:
            receiver.should_stop = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        app = self.hatchet.celery_app
        while not self._stop.is_set():
            try:
                with app.connection_for_read() as conn:
                    self._receiver = app.events.Receiver(conn, handlers={"*": self.on_event})
                    self.error = ""
                    self._receiver.capture(limit=None, timeout=1.0, wakeup=False)
            except Exception as exc:  # broker away, timeout: look again shortly
                if not self._stop.is_set() and not isinstance(exc, TimeoutError):
                    self.error = f"{type(exc).__name__}: {exc}"
                self._stop.wait(1.0)

    def on_event(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type", ""))
        if not kind.startswith("task-"):
            return
        uuid = str(event.get("uuid", ""))
        with self.lock:
            self.seen_events += 1
            task = self.tasks.get(uuid)
            if task is None:
                # only an event that names the task (received, sent) starts a row: the
                # later ones do not say whether it is a Hatchet task
                name = str(event.get("name") or "")
                if not name or name.startswith("hatchet."):
                    return
                task = self.tasks[uuid] = {"id": uuid, "name": name, "args": "", "result": ""}
                if len(self.order) == self.order.maxlen:
                    self.tasks.pop(self.order[0], None)
                self.order.append(uuid)
            elif task["name"].startswith("hatchet."):
                return
            task["state"] = kind[5:].upper()
            task[kind[5:]] = float(event.get("timestamp") or time.time())
            for key in ("args", "result", "exception", "hostname", "runtime"):
                if event.get(key) is not None:
                    task[key] = event[key]

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            rows = [dict(self.tasks[u]) for u in reversed(self.order) if u in self.tasks]
        return {"tasks": rows, "seen_events": self.seen_events, "error": self.error}


__all__ = [
    "CeleryActivity",
    "crons",
    "events",
    "flow_control",
    "input_schema",
    "metrics",
    "plots",
    "trigger",
    "workers",
    "workflow_names",
    "workflows",
]
