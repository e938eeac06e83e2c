"""Invariants checked after a fault: from the run hashes in Redis and from what the tasks
logged (``apps/workflows.py``). Each check returns readable violation lines; a case passes
when there are none.

- none lost, none stuck: every accepted run exists and reached a final status;
- one outcome per task run: the runtime accepted at most one outcome per task run, and
  the recorded output is one that an execution of that task run produced;
- no double release: a child was queued once (one task run id, fan-in counter equal to
  its parent count) and saw exactly the outputs its parents recorded;
- caps: executions of one concurrency key never overlap more than ``max_runs``, and
  first starts of rate-limited task runs stay within the bucket's rate.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from hatchet_celery._keys import Keys
from tests.chaos.apps.workflows import EXEC, OUTCOMES, STARTS

FINAL = {"COMPLETED", "FAILED", "CANCELLED"}
DAG_PARENTS = {"b": ("a",), "c": ("a",), "d": ("b", "c")}


@dataclass
class Report:
    runs: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    executions: int = 0
    outcomes: int = 0
    violations: list[str] = field(default_factory=list)

    def add(self, lines: list[str]) -> None:
        self.violations.extend(lines)

    def summary(self) -> str:
        head = (
            f"{self.runs} runs {dict(self.statuses)}, {self.executions} executions, "
            f"{self.outcomes} outcomes, {len(self.violations)} violations"
        )
        return "\n".join([head, *self.violations[:40]])


def statuses(redis: Any, keys: Keys, run_ids: list[str]) -> dict[str, str | None]:
    pipe = redis.pipeline(transaction=False)
    for run_id in run_ids:
        pipe.hget(keys.run(run_id), "st")
    return dict(zip(run_ids, pipe.execute(), strict=True))


def wait_final(redis: Any, keys: Keys, run_ids: list[str], timeout: float) -> dict[str, Any]:
    """Poll until every run is final or ``timeout`` passes; returns the last statuses."""
    deadline = time.time() + timeout
    pending = list(run_ids)
    seen: dict[str, Any] = {}
    while True:
        current = statuses(redis, keys, pending)
        seen.update(current)
        pending = [r for r, st in current.items() if st not in FINAL]
        if not pending or time.time() > deadline:
            return seen
        time.sleep(0.25)


def _lines(redis: Any, key: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in redis.lrange(key, 0, -1)]


def check_runs(
    redis: Any, keys: Keys, run_ids: list[str], expect: str | None = "COMPLETED"
) -> Report:
    """Lost, stuck and (when ``expect`` is given) unexpected final statuses."""
    report = Report(runs=len(run_ids))
    for run_id, st in statuses(redis, keys, run_ids).items():
        report.statuses[str(st)] += 1
        if st is None:
            report.violations.append(f"lost: run {run_id} does not exist")
        elif st not in FINAL:
            report.violations.append(f"stuck: run {run_id} is {st}")
        elif expect is not None and st != expect:
            report.violations.append(f"run {run_id} ended {st}, expected {expect}")
    return report


def check_outcomes(redis: Any, keys: Keys, run_ids: list[str], report: Report) -> None:
    """One accepted outcome per task run; recorded outputs come from real executions;
    children released once and fed their parents' recorded outputs."""
    execs = _lines(redis, EXEC)
    outcomes = _lines(redis, OUTCOMES)
    report.executions, report.outcomes = len(execs), len(outcomes)
    wanted = set(run_ids)
    per_task_run: Counter[tuple[str, str]] = Counter(
        (o["r"], o["t"]) for o in outcomes if o["r"] in wanted
    )
    for (run_id, task), n in per_task_run.items():
        if n > 1:
            report.violations.append(f"double outcome: {task} of run {run_id} recorded {n} times")
    tokens: dict[tuple[str, str], set[str]] = defaultdict(set)
    task_run_ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    seen_by_child: list[tuple[str, str, dict[str, str]]] = []
    for e in execs:
        if e["r"] not in wanted:
            continue
        tokens[(e["r"], e["t"])].add(e["tok"])
        task_run_ids[(e["r"], e["t"])].add(e["tr"])
        if "seen" in e:
            seen_by_child.append((e["r"], e["t"], e["seen"]))
    for (run_id, task), ids in task_run_ids.items():
        if len(ids) > 1:
            report.violations.append(f"double release: {task} of run {run_id} ran as {ids}")
    pipe = redis.pipeline(transaction=False)
    for run_id in run_ids:
        pipe.hgetall(keys.run(run_id))
    hashes = dict(zip(run_ids, pipe.execute(), strict=True))
    for run_id, h in hashes.items():
        for fname, value in h.items():
            kind, _, task = fname.partition(":")
            if kind == "o" and value:
                tok = json.loads(value).get("tok")
                if tok is not None and tok not in tokens[(run_id, task)]:
                    report.violations.append(
                        f"phantom output: {task} of run {run_id} holds a token no execution made"
                    )
            if kind == "n" and task in DAG_PARENTS and int(value) != len(DAG_PARENTS[task]):
                report.violations.append(
                    f"double release: fan-in of {task} in run {run_id} counted {value}"
                )
    for run_id, task, seen in seen_by_child:
        h = hashes.get(run_id) or {}
        for parent, tok in seen.items():
            recorded = json.loads(h.get(f"o:{parent}") or "{}").get("tok")
            if recorded is not None and recorded != tok:
                report.violations.append(
                    f"inconsistent: {task} of run {run_id} saw output {tok} of {parent}, "
                    f"but {recorded} is recorded"
                )


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Most intervals open at one instant (an end at t frees before a start at t)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    open_now = peak = 0
    for _, delta in events:
        open_now += delta
        peak = max(peak, open_now)
    return peak


def check_concurrency(
    redis: Any, max_runs: int, kills: list[tuple[int, float]], report: Report, task: str
) -> int:
    """Peak executions of one key at once; an execution cut by a kill ends at the kill."""
    killed_at = dict(kills)
    ends = {(e["r"], e["p"], e["s"]): e["e"] for e in _lines(redis, EXEC) if e["t"] == task}
    by_key: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s in _lines(redis, STARTS):
        if s["t"] != task:
            continue
        end = ends.get((s["r"], s["p"], s["s"]), killed_at.get(s["p"], float("inf")))
        by_key[s["key"]].append((s["s"], end))
    peak = 0
    for key, intervals in by_key.items():
        key_peak = max_overlap(intervals)
        peak = max(peak, key_peak)
        if key_peak > max_runs:
            report.violations.append(
                f"concurrency: key {key!r} had {key_peak} executions at once (max {max_runs})"
            )
    return peak


def check_rate(
    redis: Any, limit: int, window: float, report: Report, task: str, span: float = 3.0
) -> int:
    """First starts per task-run attempt in any ``span`` seconds stay within the bucket's
    rate, with one window of slack for delivery jitter (a start lags its admission)."""
    first: dict[tuple[str, int], float] = {}
    for s in _lines(redis, STARTS):
        if s["t"] == task:
            k = (s["r"], s["a"])
            first[k] = min(first.get(k, s["s"]), s["s"])
    times = sorted(first.values())
    bound = int(limit * (span + window) / window) + 1
    worst = j = 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + span:
            j += 1
        worst = max(worst, j - i)
    if worst > bound:
        report.violations.append(
            f"rate limit: {worst} first starts within {span:g}s (bound {bound} for "
            f"{limit}/{window:g}s)"
        )
    return worst
