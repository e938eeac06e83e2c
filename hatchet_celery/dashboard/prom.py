"""``/metrics``: Prometheus' text exposition format (0.0.4), written out by hand.

Gauges are read when scraped (the store is the state; nothing is counted in memory):
runs by status (the last day, from the status index), task runs of the active runs by
status, queue depth, slots per worker and in use, concurrency holders and waiters per
key, rate-limit units left and waiters; and a histogram per workflow of run latency
(created → finished) over the runs created in the last hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import hatchet_celery.dashboard.flow as flow
import hatchet_celery.dashboard.metrics as metrics
import hatchet_celery.dashboard.overview as overview
from hatchet_celery._protocol import TaskStatus

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
PREFIX = "hatchet_celery"


def _label_value(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, Any]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> str:
        full = f"{PREFIX}_{name}"
        self.lines += [f"# HELP {full} {help_text}", f"# TYPE {full} {kind}"]
        return full

    def sample(self, metric: str, value: float, labels: dict[str, Any] | None = None) -> None:
        self.lines.append(f"{metric}{_labels(labels or {})} {value:g}")

    def gauge(
        self, name: str, help_text: str, samples: Iterable[tuple[dict[str, Any], float]]
    ) -> None:
        full = self.family(name, "gauge", help_text)
        for labels, value in samples:
            self.sample(full, value, labels)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _latency(out: Exposition, runs: list[dict[str, Any]]) -> None:
    full = out.family(
        "run_latency_seconds",
        "histogram",
        "Run latency, created to finished, of the runs created in the last hour.",
    )
    per_workflow: dict[str, list[float]] = {}
    for r in runs:
        if r["ft"] is not None:
            per_workflow.setdefault(r["wf"], []).append(r["ft"] - r["ct"])
    for wf, values in sorted(per_workflow.items()):
        for bound in LATENCY_BUCKETS:
            count = sum(1 for v in values if v <= bound)
            out.sample(f"{full}_bucket", count, {"workflow": wf, "le": f"{bound:g}"})
        out.sample(f"{full}_bucket", len(values), {"workflow": wf, "le": "+Inf"})
        out.sample(f"{full}_sum", round(sum(values), 6), {"workflow": wf})
        out.sample(f"{full}_count", len(values), {"workflow": wf})


def exposition(hatchet: Any) -> str:
    out = Exposition()
    counts = hatchet.metrics.get_task_metrics().model_dump()
    out.gauge(
        "runs",
        "Runs created in the last day, by status.",
        (({"status": s.upper()}, n) for s, n in sorted(counts.items())),
    )
    out.gauge("queue_depth", "Runs queued, not started yet.", [({}, counts.get("queued", 0))])
    active = flow.active_tasks(hatchet)
    by_status: dict[str, int] = {}
    for _, _, status, _ in active:
        by_status[status] = by_status.get(status, 0) + 1
    out.gauge(
        "active_tasks",
        "Task runs of the queued and running runs, by status (gate statuses included).",
        (({"status": s}, n) for s, n in sorted(by_status.items())),
    )
    workers = overview.workers(hatchet, active)
    out.gauge(
        "worker_slots",
        "Slots of each worker seen in the last hour.",
        (({"worker": w["id"], "name": w["name"]}, w["slots"] or 0) for w in workers),
    )
    out.gauge(
        "worker_slots_used",
        "Task runs running on each worker.",
        (({"worker": w["id"], "name": w["name"]}, w["used"]) for w in workers),
    )
    gates = flow.flow_control(hatchet, active)
    out.gauge(
        "concurrency_holders",
        "Holders of each concurrency key.",
        (({"gate": k["gate"], "key": k["key"]}, len(k["holders"])) for k in gates["concurrency"]),
    )
    out.gauge(
        "concurrency_waiters",
        "Waiters queued behind each concurrency key.",
        (({"gate": k["gate"], "key": k["key"]}, len(k["waiters"])) for k in gates["concurrency"]),
    )
    out.gauge(
        "rate_limit_units_left",
        "Units each rate-limit bucket has now.",
        (({"key": r["key"]}, r["left"]) for r in gates["rate_limits"]),
    )
    out.gauge(
        "rate_limit_waiters",
        "Task runs waiting for rate-limit units.",
        [({}, gates["parked"].get(TaskStatus.WAIT_RATE_LIMIT, 0))],
    )
    _latency(out, metrics.last_hour(hatchet))
    return out.text()


__all__ = ["exposition"]
