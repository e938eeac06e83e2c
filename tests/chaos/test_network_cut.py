"""Case 5: workers in network namespaces of their own reach Redis over a veth pair; the
link is cut for 10 s, then restored. A worker on the host goes on meanwhile, takes over
the task runs whose leases the cut-off workers could not renew, and the cut-off workers'
late outcomes are refused. Afterwards runs resume on every worker and nothing is lost."""

from __future__ import annotations

import json
import time

import pytest

from hatchet_celery.testing import RedisServer
from tests.chaos.apps.workflows import CONC_MAX, EXEC
from tests.chaos.conftest import Cluster, client_for, long_case, scale, timeout
from tests.chaos.invariants import check_concurrency, check_outcomes, check_runs, wait_final
from tests.chaos.load import event_run_ids, record_figures, submit_mixed
from tests.chaos.netns import Link, netns_available

CUT_SECONDS = 10.0

pytestmark = [long_case, timeout(120, 600)]


@pytest.fixture
def link() -> object:
    why = netns_available()
    if why is not None:
        pytest.skip(f"network namespaces are not available here: {why}")
    made = Link(1).create()
    try:
        yield made
    finally:
        made.delete()


def test_a_cut_link_loses_nothing(link: Link, cluster_factory) -> None:
    with RedisServer(appendonly=True, extra_bind=(link.host_ip,)) as server:
        inside_url = f"redis://{link.host_ip}:{server.port}/0"
        hatchet, wf = client_for(server.url)
        keys = hatchet._registry.engine().keys
        redis = server.client(decode_responses=True)
        cut_off: Cluster = cluster_factory(inside_url, size=2, slots=8, wrapper=link.wrapper)
        host: Cluster = cluster_factory(server.url, size=1, slots=8)
        before = submit_mixed(hatchet, wf, scale(150, 600), seconds=scale(3.0, 15.0), seed=5)
        link.cut()
        cut_at = time.time()
        try:
            during = submit_mixed(hatchet, wf, scale(60, 200), seconds=CUT_SECONDS - 1, seed=6)
            time.sleep(max(0.0, cut_at + CUT_SECONDS - time.time()))
        finally:
            link.restore()
        after = submit_mixed(hatchet, wf, scale(60, 200), seconds=scale(2.0, 10.0), seed=7)
        run_ids = before.run_ids + during.run_ids + after.run_ids + event_run_ids(hatchet, wf)
        wait_final(redis, keys, run_ids, timeout=180)
        report = check_runs(redis, keys, run_ids)
        check_outcomes(redis, keys, run_ids, report)
        check_concurrency(redis, CONC_MAX, [], report, "chaos_conc")
        restored_at = cut_at + CUT_SECONDS
        inside = {w.pid for w in cut_off.workers}
        resumed = {
            e["p"]
            for e in map(json.loads, redis.lrange(EXEC, 0, -1))
            if e["p"] in inside and e["s"] > restored_at
        }
        alive = cut_off.alive() + host.alive()
        record_figures(
            "network_cut",
            runs=len(run_ids),
            cut_seconds=CUT_SECONDS,
            cut_off_workers=len(cut_off.workers),
            executions=report.executions,
            outcomes=report.outcomes,
            violations=len(report.violations),
        )
        assert len(alive) == 3, "a worker died"
        assert not report.violations, report.summary()
        assert resumed == inside, "a cut-off worker never took work again"
