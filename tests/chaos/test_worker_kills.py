"""Case 1: workers SIGKILLed at random while a mixed load runs (DAGs with retries,
concurrency keys, rate limits, durable sleeps, event-triggered runs). Afterwards every
accepted run is COMPLETED, each task run has one outcome, no child was released twice,
no concurrency key ever ran above ``max_runs`` and the rate limit held."""

from __future__ import annotations

import time

from tests.chaos.apps.workflows import CONC_MAX, RL_LIMIT
from tests.chaos.conftest import Killer, client_for, scale, timeout
from tests.chaos.invariants import (
    check_concurrency,
    check_outcomes,
    check_rate,
    check_runs,
    wait_final,
)
from tests.chaos.load import event_run_ids, record_figures, submit_mixed


@timeout(120, 900)
def test_random_sigkills_lose_nothing(chaos_redis, cluster_factory) -> None:
    n = scale(200, 2000)
    hatchet, wf = client_for(chaos_redis.url)
    keys = hatchet._registry.engine().keys
    redis = chaos_redis.client(decode_responses=True)
    cluster = cluster_factory(chaos_redis.url, size=3, slots=8)
    started = time.time()
    with Killer(cluster, every=scale(2.0, 4.0), at_least=scale(3, 20)) as killer:
        submitted = submit_mixed(hatchet, wf, n, seconds=scale(6.0, 100.0))
        # keep the faults coming while the backlog drains
        time.sleep(scale(2.0, 10.0))
    assert not killer.errors, killer.errors
    assert len(cluster.kills) >= scale(3, 20)
    run_ids = submitted.run_ids
    events = event_run_ids(hatchet, wf)
    assert len(events) == submitted.events  # each push created its run, once
    run_ids += events
    wait_final(redis, keys, run_ids, timeout=scale(90, 180))
    report = check_runs(redis, keys, run_ids)
    check_outcomes(redis, keys, run_ids, report)
    peak = check_concurrency(redis, CONC_MAX, cluster.kills, report, "chaos_conc")
    worst = check_rate(redis, RL_LIMIT, 1.0, report, "chaos_rl")
    record_figures(
        "worker_kills",
        runs=len(run_ids),
        kills=len(cluster.kills),
        executions=report.executions,
        outcomes=report.outcomes,
        conc_peak=peak,
        rl_worst_3s=worst,
        violations=len(report.violations),
        seconds=round(time.time() - started, 1),
    )
    assert not report.violations, report.summary()
