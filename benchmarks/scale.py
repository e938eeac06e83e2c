"""Scale figures: memory per run, async concurrency, CEL evaluation, sleeping durable tasks.

These have no plain-Celery counterpart except memory (a Celery result meta key per task);
each is held to an absolute target.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

import redis
from celery import group

from benchmarks.harness import WorkerSpec, percentile, timed, workers
from benchmarks.report import Figure
from benchmarks.workloads import RESULT_TIMEOUT, Sizes

ASYNC_TASKS = 100
DURABLE_SLEEP_S = 8.0
# Durable tasks per second assumed to fall asleep, to size the sleep (see durable_sleepers).
START_RATE = 150.0


def key_bytes(r: redis.Redis) -> int:
    """Sum of ``MEMORY USAGE`` over every key of the database (pipelined)."""
    keys = list(r.scan_iter(count=1000))
    total = 0
    for start in range(0, len(keys), 1000):
        pipe = r.pipeline(transaction=False)
        for key in keys[start : start + 1000]:
            pipe.memory_usage(key, samples=0)
        total += sum(v or 0 for v in pipe.execute())
    return total


def memory_per_run(apps: ModuleType, r: redis.Redis, n: int) -> Figure:
    """Bytes a finished no-op run leaves in Redis until retention, each side."""

    def measure(work: Any) -> float:
        time.sleep(0.3)  # let acks and late pub/sub bookkeeping land
        before = key_bytes(r)
        work()
        time.sleep(0.3)
        return (key_bytes(r) - before) / n

    celery = measure(
        lambda: (
            group(apps.plain_noop.s() for _ in range(n)).apply_async().get(timeout=RESULT_TIMEOUT)
        )
    )
    items = [apps.hatchet_noop.create_bulk_run_item() for _ in range(n)]
    refs: list[Any] = []

    def hatchet_runs() -> None:
        refs.extend(apps.hatchet_noop.run_many_no_wait(items))
        apps.hatchet_noop._client().results(refs, False)

    hatchet = measure(hatchet_runs)
    engine = apps.hatchet._registry.engine()
    sample = [engine.keys.run(ref.workflow_run_id) for ref in refs[:50]]
    run_hash = sum(r.memory_usage(k, samples=0) or 0 for k in sample) / len(sample)
    payload = len("{}")  # the no-op input; no output
    return Figure(
        "memory_per_run",
        "Redis bytes per finished no-op run",
        "bytes",
        hatchet - payload,
        celery,
        target=2048,
        target_on="value",
        note=(
            f"sum of MEMORY USAGE over all keys, delta / {n} runs, payload excluded; "
            f"the run hash alone is {run_hash:,.0f} B; Celery keeps one result meta key"
        ),
        extra={"run_hash_bytes": run_hash},
    )


def async_wall(apps: ModuleType) -> Figure:
    items = [apps.hatchet_async_sleep.create_bulk_run_item() for _ in range(ASYNC_TASKS)]
    seconds = timed(lambda: apps.hatchet_async_sleep.run_many(items))
    return Figure(
        "async_100_wall",
        f"{ASYNC_TASKS} async tasks awaiting 1 s, slots=100",
        "s",
        seconds,
        target=1.5,
        target_on="value",
    )


def cel_p50() -> Figure:
    """Slowest fast-path expression of ``bench_cel.py`` (p50 of single evaluations)."""
    from benchmarks import bench_cel

    n = 20_000
    medians = {
        expr: bench_cel.percentiles(bench_cel.ours(expr, fast=True), n)[0]
        for expr in bench_cel.FAST
    }
    raw = bench_cel.percentiles(bench_cel.raw_prepared("input.user_id"), n // 4)[0]
    slowest = max(medians, key=lambda e: medians[e])
    return Figure(
        "cel_p50",
        "CEL key evaluation p50 (slowest fast path)",
        "us",
        medians[slowest],
        target=20,
        target_on="value",
        note=f"{slowest!r}; cel-python with a prepared program takes {raw:.0f} us",
        extra={"per_expression_us": medians, "celpy_prepared_us": raw},
    )


def durable_available() -> bool:
    from hatchet_celery.durable import DurableContext

    return hasattr(DurableContext, "aio_sleep_for")


def durable_sleepers(apps: ModuleType, r: redis.Redis, n: int) -> list[Figure]:
    """N durable tasks go to sleep at once; leases held while all sleep, wake-up lateness.

    The sleep outlasts the start-up burst (assumed at least START_RATE tasks/s), so all N
    are asleep together; their wake-ups then come due at the rate they fell asleep.
    """
    engine = apps.hatchet._registry.engine()
    wf = apps.durable_sleep
    seconds = max(DURABLE_SLEEP_S, n / START_RATE + 3)
    sleep = apps.SleepInput(seconds=seconds)
    items = [wf.create_bulk_run_item(input=sleep) for _ in range(n)]
    started = time.perf_counter()
    refs = wf.run_many_no_wait(items)
    keys = [engine.keys.run(ref.workflow_run_id) for ref in refs]
    asleep_after = None
    while time.perf_counter() - started < seconds:
        pipe = r.pipeline(transaction=False)
        for key in keys:
            pipe.hget(key, "bt")
        if sum(1 for v in pipe.execute() if v) == n:
            asleep_after = time.perf_counter() - started
            break
        time.sleep(0.2)
    # Every task run holding a slot holds a lease: sample them until the first wake-up.
    held: list[int] = []
    time.sleep(0.5)  # the last ones commit their wait
    while time.perf_counter() - started < seconds - 0.5:
        held.append(int(r.zcard(engine.keys.leases)))
        time.sleep(0.1)
    results = wf._client().results(refs, True)
    states = wf._client().fetch_many([ref.workflow_run_id for ref in refs])
    lateness: list[float] = []
    woke: list[float] = []
    replayed = 0
    for result, state in zip(results, states, strict=True):
        if isinstance(result, BaseException) or not isinstance(result, dict):
            continue
        slept = float(result.get("slept", 0.0))
        woke.append(float(result["woke_at"]))
        if slept >= seconds:  # resumed where it parked: the task's own clock
            lateness.append(slept - seconds)
        elif state is not None and state.started_at is not None:  # replayed elsewhere
            replayed += 1
            lateness.append(max(woke[-1] - state.started_at - seconds, 0.0))
    start_rate = n / asleep_after if asleep_after else None
    wake_rate = len(woke) / (max(woke) - min(woke)) if len(woke) > 1 else None
    note = (
        f"{n} tasks sleeping {seconds:.0f}s; fell asleep at "
        f"{start_rate or 0:.0f}/s, woke at {wake_rate or 0:.0f}/s; "
        f"{len(lateness)} results ({replayed} replayed from the top)"
    )
    extra = {
        "sleep_s": seconds,
        "start_rate": start_rate,
        "wake_rate": wake_rate,
        "p50": percentile(lateness, 50) if lateness else None,
        "leases_sampled": len(held),
    }
    return [
        Figure(
            "durable_slots_held",
            f"{n} sleeping durable tasks: slots held",
            "slots",
            float(max(held)) if held else None,
            target=0,
            target_on="value",
            note=note,
        ),
        Figure(
            "durable_lateness_p99",
            f"{n} sleeping durable tasks: wake-up lateness p99",
            "s",
            percentile(lateness, 99) if lateness else None,
            target=1.0,
            target_on="value",
            extra=extra,
        ),
    ]


def scale_figures(
    apps: ModuleType, redis_url: str, spec: WorkerSpec, sizes: Sizes, durable: int
) -> list[Figure]:
    r = redis.Redis.from_url(redis_url)
    figures: list[Figure] = []
    try:
        figures.append(memory_per_run(apps, r, n=min(sizes.w1_tasks, 1000)))
        print("  memory done", flush=True)
        if spec.pool == "threads" and spec.concurrency >= ASYNC_TASKS:
            figures.append(async_wall(apps))
        else:  # slots=100 is the figure's premise: a worker of its own
            with workers(WorkerSpec("threads", ASYNC_TASKS, 1), redis_url):
                figures.append(async_wall(apps))
        print("  async done", flush=True)
        if durable_available() and durable > 0:
            figures += durable_sleepers(apps, r, durable)
            print("  durable done", flush=True)
        else:
            figures.append(
                Figure(
                    "durable_slots_held",
                    "sleeping durable tasks",
                    "slots",
                    None,
                    note="not measured: DurableContext.aio_sleep_for has not landed",
                )
            )
    finally:
        r.close()
    figures.append(cel_p50())
    return figures
