"""The flow-control page and the gauges built on the same reads: per concurrency key its
holders and waiters, per rate limit the units left, and the task runs of the active runs
(slots in use, task runs parked in a gate).

The gates' holders and waiters and the active runs' task statuses are known only to the
coordination store (no feature client lists them): they are read-only looks at the keys
``_keys.py`` names, in the layout ``_runtime/flow/concurrency.py`` documents.
"""

from __future__ import annotations

import json
import time
from typing import Any

import hatchet_celery.dashboard.source as source
from hatchet_celery._protocol import RunStatus

ACTIVE_LIMIT = 2000  # active runs read per status for slots in use and parked tasks
Active = list[tuple[str, str, str, str]]


def _registry(hatchet: Any) -> Any:
    return hatchet._registry


def _engine(hatchet: Any) -> Any:
    return _registry(hatchet).engine()


def active_tasks(hatchet: Any) -> Active:
    """``(run id, task, status, worker)`` of the task runs of the queued and running runs."""
    engine = _engine(hatchet)
    redis = engine.store.redis
    now = time.time()
    ids: list[str] = []
    for status in (RunStatus.QUEUED, RunStatus.RUNNING):
        page = _ids_with_status(engine, status, now)
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


def _ids_with_status(engine: Any, status: str, now: float) -> list[str]:
    from hatchet_celery._runtime.core import run_index

    src = run_index.status_source(engine.keys, status, now - 7 * 86400, now + 60)
    ids = engine.store.redis.zrevrangebyscore(
        src.key, repr(src.hi), repr(src.lo), start=0, num=ACTIVE_LIMIT
    )
    return [str(i) for i in ids]


def _gates(hatchet: Any) -> list[tuple[str, str]]:
    """``(gate, what)`` of every declared concurrency setting (``_runtime/flow/concurrency.py``)."""
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


__all__ = ["ACTIVE_LIMIT", "Active", "active_tasks", "flow_control"]
