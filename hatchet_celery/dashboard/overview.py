"""What the workflows, workers, crons and events pages show, and the trigger action
(input validated against the workflow's input model), through the ``Hatchet`` feature
clients. Flow control is ``flow.py``, the metrics ``metrics.py``, the plain Celery tasks
``celery_events.py``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

import hatchet_celery.dashboard.source as source
from hatchet_celery._protocol import TaskStatus
from hatchet_celery.dashboard.flow import Active, active_tasks


def _registry(hatchet: Any) -> Any:
    return hatchet._registry


# --- workflows and the trigger action --------------------------------------------------------
def workflow_names(hatchet: Any) -> list[str]:
    return [w.name for w in hatchet.workflows.list().rows]


def _declared(hatchet: Any, name: str) -> Any:
    registry = _registry(hatchet)
    return registry.workflows.get(registry.config.apply_namespace(name)) if name else None


def _adapter(declared: Any) -> TypeAdapter[Any]:
    """Validates what the workflow's ``run()`` validates: its input model."""
    return TypeAdapter(declared.input_validator)


def input_schema(hatchet: Any, workflow: str) -> dict[str, Any] | None:
    """The JSON schema of a declared workflow's input model (a hint on the trigger form)."""
    declared = _declared(hatchet, workflow)
    if declared is None:
        return None
    try:
        schema: dict[str, Any] = _adapter(declared).json_schema()
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
            _adapter(declared).validate_python(values["input"])
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
def workers(hatchet: Any, active: Active | None = None) -> list[dict[str, Any]]:
    used: dict[str, int] = {}
    for _, _, status, worker in active if active is not None else active_tasks(hatchet):
        if status == TaskStatus.RUNNING and worker:
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


__all__ = [
    "create_cron",
    "create_scheduled",
    "crons",
    "events",
    "input_schema",
    "trigger",
    "workers",
    "workflow_names",
    "workflows",
]
