"""Case 7: a password-protected Redis, a TLS (``rediss://``) Redis, and two namespaces on
one Redis that never see each other's runs, events, concurrency slots, rate-limit buckets
or crons."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from hatchet_celery.testing import RedisServer
from tests.chaos.apps.workflows import CONC_MAX, STARTS, Step
from tests.chaos.conftest import client_for, long_case
from tests.chaos.invariants import max_overlap, wait_final
from tests.chaos.load import record_figures
from tests.chaos.tlsproxy import TlsProxy, make_certificate


def _run_dags(hatchet: Any, wf: Any, n: int = 10) -> list[str]:
    refs = wf.dag.run_many_no_wait([wf.dag.create_bulk_run_item(Step(ms=5))] * n)
    return [r.workflow_run_id for r in refs]


def test_password_protected_redis(cluster_factory) -> None:
    password = "s3cr:t/pa ss@word"  # characters a URL must escape
    with RedisServer(password=password) as server:
        assert server.url.startswith("redis://:s3cr%3At%2Fpa%20ss%40word@")
        hatchet, wf = client_for(server.url, namespace="chaos_auth")
        cluster_factory(server.url, size=1, slots=4, env={"CHAOS_NAMESPACE": "chaos_auth"})
        run_ids = _run_dags(hatchet, wf)
        client = server.client(decode_responses=True)
        final = wait_final(client, hatchet._registry.engine().keys, run_ids, timeout=60)
        assert set(final.values()) == {"COMPLETED"}
        wrong = server.url.replace("s3cr%3At", "nope")
        bad, bad_wf = client_for(wrong, namespace="chaos_auth")
        with pytest.raises(redis_lib.AuthenticationError):
            bad_wf.dag.run_no_wait(Step())
        with pytest.raises(redis_lib.AuthenticationError):
            redis_lib.Redis(port=server.port).ping()  # no password: refused


@long_case
def test_rediss_url_end_to_end(tmp_path: Path, cluster_factory) -> None:
    try:
        cert, key = make_certificate(tmp_path)
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"no openssl to make a certificate: {exc}")
    with RedisServer() as server, TlsProxy(server.port, cert, key) as proxy:
        url = f"rediss://127.0.0.1:{proxy.port}/0?ssl_cert_reqs=required&ssl_ca_certs={cert}"
        hatchet, wf = client_for(url, namespace="chaos_tls")
        cluster_factory(url, size=1, slots=4, env={"CHAOS_NAMESPACE": "chaos_tls"})
        run_ids = _run_dags(hatchet, wf)
        plain = server.client(decode_responses=True)
        final = wait_final(plain, hatchet._registry.engine().keys, run_ids, timeout=60)
        assert set(final.values()) == {"COMPLETED"}
        assert proxy.handshakes >= 3  # the client, the worker's store and its broker
        # a client that does not trust the certificate is refused
        with pytest.raises(redis_lib.ConnectionError):
            redis_lib.Redis.from_url(
                f"rediss://127.0.0.1:{proxy.port}/0?ssl_cert_reqs=required"
            ).ping()
    record_figures("tls", runs=len(run_ids), handshakes=proxy.handshakes)


def test_two_namespaces_on_one_redis_never_meet(chaos_redis, cluster_factory) -> None:
    url = chaos_redis.url
    redis = chaos_redis.client(decode_responses=True)
    sides = {}
    for ns in ("chaos_ns1", "chaos_ns2"):
        hatchet, wf = client_for(url, namespace=ns)
        cluster_factory(url, size=1, slots=8, env={"CHAOS_NAMESPACE": ns})
        sides[ns] = (hatchet, wf)
    (h1, wf1), (h2, wf2) = sides["chaos_ns1"], sides["chaos_ns2"]
    # runs: the same workflow names in both, each side sees only its own
    runs = {ns: _run_dags(h, wf) for ns, (h, wf) in sides.items()}
    # locks: the same concurrency key, held in both namespaces at once
    conc = {
        ns: [
            r.workflow_run_id
            for r in wf.conc.run_many_no_wait(
                [wf.conc.create_bulk_run_item(Step(ms=800, key="shared"))] * 4
            )
        ]
        for ns, (_, wf) in sides.items()
    }
    # events: pushed in one namespace only
    h1.event.push("chaos:event", {"ms": 1})
    # crons: created in one namespace only
    h1.cron.create(wf1.dag.name, "nightly", "0 3 * * *", {"ms": 1}, {})
    for ns, (h, _) in sides.items():
        keys = h._registry.engine().keys
        final = wait_final(redis, keys, runs[ns] + conc[ns], timeout=60)
        assert set(final.values()) == {"COMPLETED"}, final
        other = "chaos_ns2" if ns == "chaos_ns1" else "chaos_ns1"
        assert not redis.exists(*[keys.run(r) for r in runs[other]])
        listed = {r.metadata.id for r in h.runs.list(limit=1000).rows}
        assert set(runs[ns]) <= listed and not listed & set(runs[other])
    e1 = h1._registry.engine()
    e2 = h2._registry.engine()
    assert redis.zcard(e1.keys.index("wf", wf1.event.name)) == 1
    assert redis.zcard(e2.keys.index("wf", wf2.event.name)) == 0
    assert len(h1.cron.list().rows or []) == 1 and not (h2.cron.list().rows or [])
    # each namespace held its own two slots of "shared": four ran at once in all
    starts = [json.loads(x) for x in redis.lrange(STARTS, 0, -1)]
    per_ns = {}
    for ns, ids in conc.items():
        intervals = [(s["s"], s["s"] + 0.8) for s in starts if s["r"] in set(ids)]
        per_ns[ns] = max_overlap(intervals)
        assert per_ns[ns] <= CONC_MAX
    all_intervals = [(s["s"], s["s"] + 0.8) for s in starts if s["t"] == "chaos_conc"]
    assert max_overlap(all_intervals) > CONC_MAX, "one namespace's slots blocked the other's"
    # every key but Celery's own lives under one namespace's prefix
    for key in redis.scan_iter("hc:*"):
        assert key.startswith(("hc:chaos_ns1:", "hc:chaos_ns2:")), key
    queues = {h.celery_app.conf.task_default_queue for h, _ in sides.values()}
    assert queues == {"hatchet.chaos_ns1", "hatchet.chaos_ns2"}
    record_figures("namespaces", runs=sum(map(len, runs.values())), conc_peaks=per_ns)
