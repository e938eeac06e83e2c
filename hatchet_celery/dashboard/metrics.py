"""The metrics page: the last hour of runs, per minute (throughput, queue depth, latency
p50 / p95, overall and for the busiest workflows), plotted as SVG on the server.

The runs of the last hour are read from the creation-time index and their hashes (five
fields each); no feature client gives timings per run without their payloads.
"""

from __future__ import annotations

import time
from typing import Any

from hatchet_celery._protocol import TERMINAL, RunStatus
from hatchet_celery.dashboard.plots import line_plot

HOUR = 3600.0
SAMPLE_LIMIT = 5000  # runs of the last hour read for the plots and the latency figures
PLOTTED_WORKFLOWS = 6  # the busiest workflows of the hour get a line of their own


def _engine(hatchet: Any) -> Any:
    return hatchet._registry.engine()


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
                "st": str(st or RunStatus.QUEUED),
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
        if r["ft"] is not None and r["st"] in TERMINAL:
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


__all__ = ["last_hour", "metrics", "plots"]
