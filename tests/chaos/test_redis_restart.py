"""Case 2: the redis-server (append-only file, appendfsync everysec) restarts in the middle
of a load, gracefully or by a crash (SIGKILL, down for two seconds). Runs accepted before
it complete: the workers' Celery consumers, timer pumps and lease watchdogs reconnect, and
so do the client's publisher and its run-completion listener (the futures it holds for
runs in flight resolve). Runs submitted after the restart complete too."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from tests.chaos.apps.workflows import CONC_MAX, Step
from tests.chaos.conftest import client_for, long_case, scale, timeout
from tests.chaos.invariants import check_concurrency, check_outcomes, check_runs, wait_final
from tests.chaos.load import event_run_ids, record_figures, submit_mixed


@timeout(120, 600)
@pytest.mark.parametrize("how", ["restart", pytest.param("crash", marks=long_case)])
def test_runs_accepted_before_a_redis_restart_complete(
    how: str, chaos_redis, cluster_factory
) -> None:
    hatchet, wf = client_for(chaos_redis.url)
    keys = hatchet._registry.engine().keys
    cluster = cluster_factory(chaos_redis.url, size=2, slots=8)
    before = submit_mixed(hatchet, wf, scale(120, 600), seconds=scale(3.0, 20.0), seed=2)
    # a few slow runs, so the workers hold delivered, unacked messages when Redis goes
    slow = wf.dag.run_many_no_wait([wf.dag.create_bulk_run_item(Step(ms=1500))] * 4)
    before.add("slow", [r.workflow_run_id for r in slow])
    waiting = hatchet._registry.engine().waiter.wait_many(before.run_ids)
    redis = chaos_redis.client(decode_responses=True)
    deadline = time.time() + 20
    while redis.zcard(keys.leases) < 2:  # task runs RUNNING right now
        assert time.time() < deadline, "no task run started"
        time.sleep(0.02)
    down_at = time.time()
    if how == "restart":
        chaos_redis.restart()
    else:
        chaos_redis.kill()
        time.sleep(2.0)  # down for a while: clients retry and back off
        chaos_redis.start()
    back_at = time.time()
    after = submit_mixed(hatchet, wf, scale(60, 300), seconds=scale(2.0, 10.0), seed=3)
    run_ids = before.run_ids + after.run_ids + event_run_ids(hatchet, wf)
    redis = chaos_redis.client(decode_responses=True)
    wait_final(redis, keys, run_ids, timeout=scale(90, 180))
    done, pending = concurrent.futures.wait(waiting, timeout=30)
    report = check_runs(redis, keys, run_ids)
    if pending:
        report.violations.append(f"{len(pending)} result futures never resolved")
    check_outcomes(redis, keys, run_ids, report)
    check_concurrency(redis, CONC_MAX, cluster.kills, report, "chaos_conc")
    assert cluster.alive() == [w.pid for w in cluster.workers], "a worker died"
    record_figures(
        f"redis_{how}",
        runs=len(run_ids),
        accepted_before=len(before.run_ids),
        down_seconds=round(back_at - down_at, 2),
        violations=len(report.violations),
    )
    assert not report.violations, report.summary()
