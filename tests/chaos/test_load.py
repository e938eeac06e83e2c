"""Case 8: a steady 50 runs/s of a 3-step workflow (5 minutes under ``make chaos``, 30 s
otherwise) with a retention of a few seconds. End-to-end latency (trigger to the client
seeing the run finish) stays flat: p50 and p99 of the last third stay close to the first
third's. Redis memory stays bounded once retention applies: the last third's peak is no
higher than the middle third's by more than a small margin."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from tests.chaos.apps.workflows import Step
from tests.chaos.conftest import client_for, long_case, scale, timeout
from tests.chaos.load import record_figures

pytestmark = [long_case, timeout(120, 600)]

RATE = 50  # runs per second
TICK = 0.1
RETENTION = 5


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_steady_load_keeps_latency_flat_and_memory_bounded(chaos_redis, cluster_factory) -> None:
    seconds = scale(30.0, 300.0)
    hatchet, wf = client_for(chaos_redis.url, namespace="chaos_load", retention_seconds=RETENTION)
    env = {
        "CHAOS_NAMESPACE": "chaos_load",
        "HATCHET_CELERY_RETENTION_SECONDS": str(RETENTION),
        "CHAOS_WORKER": "0",  # no outcome log: Redis holds only what the runtime keeps
    }
    cluster_factory(chaos_redis.url, size=2, slots=16, env=env)
    waiter = hatchet._registry.engine().waiter
    redis = chaos_redis.client()
    latencies: list[tuple[float, float]] = []  # (submitted at, seconds to finish)
    memory: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sample_memory() -> None:
        while not stop.wait(1.0):
            memory.append((time.time(), int(redis.info("memory")["used_memory"])))

    def done(submitted: float) -> Any:
        def record(_: Any) -> None:
            with lock:
                latencies.append((submitted, time.time() - submitted))

        return record

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    start = time.time()
    per_tick = int(RATE * TICK)
    ticks = int(seconds / TICK)
    submitted = 0
    try:
        for tick in range(ticks):
            at = time.time()
            items = [wf.chain.create_bulk_run_item(Step())] * per_tick
            refs = wf.chain.run_many_no_wait(items)
            for fut in waiter.wait_many([r.workflow_run_id for r in refs]):
                fut.add_done_callback(done(at))
            submitted += len(refs)
            delay = start + (tick + 1) * TICK - time.time()
            if delay > 0:
                time.sleep(delay)
        deadline = time.time() + 60
        while len(latencies) < submitted and time.time() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        sampler.join(timeout=5)
    elapsed = time.time() - start
    assert len(latencies) == submitted, f"{submitted - len(latencies)} runs never finished"
    achieved = submitted / seconds
    third = seconds / 3
    first = [lat for at, lat in latencies if at < start + third]
    last = [lat for at, lat in latencies if at >= start + 2 * third]
    p50 = (statistics.median(first), statistics.median(last))
    p99 = (_pct(first, 0.99), _pct(last, 0.99))
    middle_mem = max(m for t, m in memory if start + third <= t < start + 2 * third)
    last_mem = max(m for t, m in memory if t >= start + 2 * third)
    record_figures(
        "load",
        runs=submitted,
        seconds=round(seconds),
        rate=round(achieved, 1),
        p50_first_last=[round(x, 3) for x in p50],
        p99_first_last=[round(x, 3) for x in p99],
        memory_mb_middle_last=[round(middle_mem / 2**20, 2), round(last_mem / 2**20, 2)],
        elapsed=round(elapsed, 1),
    )
    assert achieved >= RATE * 0.9
    assert p50[1] <= max(2 * p50[0], p50[0] + 0.1), p50
    assert p99[1] <= max(2 * p99[0], p99[0] + 0.5), p99
    assert last_mem <= middle_mem * 1.1 + 2**18, (middle_mem, last_mem)
