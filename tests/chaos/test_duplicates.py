"""Case 3: duplicated messages never make a second outcome.

- published twice by hand: every root message sent four times at once, then every task
  message of the finished runs sent again (and one with an attempt that never was);
- redelivered by the broker: a user's Celery app whose Redis transport redelivers
  messages unacked for over a second, with tasks that run for two and a half.

Each task run executes exactly once (no worker dies here) and records one outcome.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from hatchet_celery._runtime.core.hooks import Ready
from tests.chaos.apps import dup_app
from tests.chaos.apps.workflows import EXEC, Step
from tests.chaos.conftest import client_for, long_case, scale, timeout
from tests.chaos.invariants import check_outcomes, check_runs, wait_final
from tests.chaos.load import record_figures

DAG_TASKS = ("a", "b", "c", "d")


def _executions(redis: Any) -> Counter[tuple[str, str]]:
    return Counter((e["r"], e["t"]) for e in map(json.loads, redis.lrange(EXEC, 0, -1)))


def _drained(redis: Any, queue: str, timeout: float = 30.0) -> None:
    """Wait until the broker holds no message of ``queue``, queued or unacked."""
    deadline = time.time() + timeout
    while True:
        queued = sum(redis.llen(k) for k in redis.scan_iter(f"{queue}*") if redis.type(k) == "list")
        if queued == 0 and redis.hlen("unacked") == 0:
            return
        assert time.time() < deadline, f"{queued} messages still queued"
        time.sleep(0.1)


@timeout(120, 600)
def test_messages_published_twice_by_hand(chaos_redis, cluster_factory) -> None:
    hatchet, wf = client_for(chaos_redis.url)
    engine = hatchet._registry.engine()
    redis = chaos_redis.client(decode_responses=True)
    cluster_factory(chaos_redis.url, size=2, slots=8)
    n = scale(100, 1000)
    refs = wf.dag.run_many_no_wait([wf.dag.create_bulk_run_item(Step(ms=30))] * n)
    run_ids = [r.workflow_run_id for r in refs]
    name = wf.dag.name
    engine.publish_ready([Ready(name, "a", r, "", 0) for r in run_ids for _ in range(3)])
    wait_final(redis, engine.keys, run_ids, timeout=scale(60, 180))
    stale = [Ready(name, t, r, "", 0) for r in run_ids for t in DAG_TASKS]
    stale += [Ready(name, "a", r, "", 5) for r in run_ids]  # an attempt that never was
    engine.publish_ready(stale)
    _drained(redis, "hatchet.chaos")
    report = check_runs(redis, engine.keys, run_ids)
    check_outcomes(redis, engine.keys, run_ids, report)
    executions = _executions(redis)
    for run_id in run_ids:
        for task in DAG_TASKS:
            if executions[(run_id, task)] != 1:
                report.violations.append(
                    f"{task} of run {run_id} executed {executions[(run_id, task)]} times"
                )
    record_figures(
        "duplicates_by_hand",
        runs=n,
        duplicate_messages=3 * n + len(stale),
        executions=sum(executions.values()),
        violations=len(report.violations),
    )
    assert not report.violations, report.summary()


@long_case
@timeout(120, 600)
def test_redelivery_after_the_visibility_timeout(chaos_redis, cluster_factory) -> None:
    _, hatchet, wf = dup_app.build(chaos_redis.url)
    keys = hatchet._registry.engine().keys
    redis = chaos_redis.client(decode_responses=True)
    cluster = cluster_factory(
        chaos_redis.url, size=2, slots=8, target="tests.chaos.apps.dup_app:hatchet"
    )
    n = scale(8, 40)
    refs = wf.dag.run_many_no_wait([wf.dag.create_bulk_run_item(Step(ms=2500))] * n)
    run_ids = [r.workflow_run_id for r in refs]
    wait_final(redis, keys, run_ids, timeout=scale(60, 180))
    _drained(redis, "chaos_dup")
    report = check_runs(redis, keys, run_ids)
    check_outcomes(redis, keys, run_ids, report)
    executions = _executions(redis)
    for run_id in run_ids:
        for task in DAG_TASKS:
            if executions[(run_id, task)] != 1:
                report.violations.append(
                    f"{task} of run {run_id} executed {executions[(run_id, task)]} times"
                )
    deliveries = cluster.logs().count("chaos_dup_ChaosDag.a[") // 2  # received + finished
    record_figures(
        "duplicates_redelivered",
        runs=n,
        deliveries_of_a=deliveries,
        executions=sum(executions.values()),
        violations=len(report.violations),
    )
    assert not report.violations, report.summary()
    assert deliveries > n, "the broker never redelivered a message: the case proves nothing"
