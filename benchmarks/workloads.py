"""W1-W5: the same work done by plain Celery canvas and by hatchet_celery, side by side.

Each workload runs both contenders in turn against the same worker processes. Latency
samples are interleaved one by one (celery, hatchet, hatchet, celery, ...) so a noisy
neighbour on a shared machine hits both sides alike; throughput rounds alternate their
order the same way and the median round is reported.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from celery import chain, chord, group

from benchmarks.harness import percentile, timed
from benchmarks.report import Figure

RESULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Sizes:
    """How much work each workload does; ``quick`` shrinks everything for a smoke run."""

    w1_tasks: int = 2000
    w2_calls: int = 200
    w3_runs: int = 30
    w4_runs: int = 20
    w5_runs: int = 500
    rounds: int = 3

    @classmethod
    def quick(cls) -> Sizes:
        return cls(w1_tasks=300, w2_calls=40, w3_runs=8, w4_runs=5, w5_runs=60, rounds=1)


def _alternate(
    rounds: int, celery: Callable[[], float], hatchet: Callable[[], float]
) -> tuple[list[float], list[float]]:
    c: list[float] = []
    h: list[float] = []
    for i in range(rounds):
        if i % 2 == 0:
            c.append(celery())
            h.append(hatchet())
        else:
            h.append(hatchet())
            c.append(celery())
    return c, h


def _paired(
    n: int, celery: Callable[[], Any], hatchet: Callable[[], Any]
) -> tuple[list[float], list[float]]:
    """``n`` timed calls of each, interleaved one by one (a noisy neighbour hits both)."""
    c: list[float] = []
    h: list[float] = []
    for i in range(n):
        if i % 2 == 0:
            c.append(timed(celery))
            h.append(timed(hatchet))
        else:
            h.append(timed(hatchet))
            c.append(timed(celery))
    return c, h


def warm_up(apps: ModuleType) -> None:
    """Connections, script loading, the result listeners: paid once, not measured."""
    apps.plain_noop.delay().get(timeout=RESULT_TIMEOUT)
    apps.hatchet_noop.run()
    chain(apps.plain_noop.s() for _ in range(3)).apply_async().get(timeout=RESULT_TIMEOUT)
    apps.chain_wf.run()
    apps.hatchet_noop.run_many([apps.hatchet_noop.create_bulk_run_item() for _ in range(20)])
    group(apps.plain_noop.s() for _ in range(20)).apply_async().get(timeout=RESULT_TIMEOUT)


def w1_throughput(apps: ModuleType, sizes: Sizes) -> list[Figure]:
    n = sizes.w1_tasks

    def celery() -> float:
        return n / timed(
            lambda: (
                group(apps.plain_noop.s() for _ in range(n))
                .apply_async()
                .get(timeout=RESULT_TIMEOUT)
            )
        )

    def hatchet() -> float:
        items = apps.hatchet_noop.create_bulk_run_item
        return n / timed(lambda: apps.hatchet_noop.run_many([items() for _ in range(n)]))

    c, h = _alternate(sizes.rounds, celery, hatchet)
    return [
        Figure(
            "w1_throughput",
            f"W1 {n} no-op at once",
            "tasks/s",
            statistics.median(h),
            statistics.median(c),
            better="higher",
            target=1.0,
            extra={"celery_rounds": c, "hatchet_rounds": h},
        )
    ]


def w2_round_trip(apps: ModuleType, sizes: Sizes) -> list[Figure]:
    c, h = _paired(
        sizes.w2_calls,
        lambda: apps.plain_noop.delay().get(timeout=RESULT_TIMEOUT),
        apps.hatchet_noop.run,
    )
    ms_c = [s * 1000 for s in c]
    ms_h = [s * 1000 for s in h]
    return [
        Figure(
            "w2_p50",
            f"W2 {len(c)} sequential run() p50",
            "ms",
            percentile(ms_h, 50),
            percentile(ms_c, 50),
            target=1.1,
        ),
        Figure(
            "w2_p99",
            f"W2 {len(c)} sequential run() p99",
            "ms",
            percentile(ms_h, 99),
            percentile(ms_c, 99),
        ),
    ]


def w3_chain(apps: ModuleType, sizes: Sizes) -> list[Figure]:
    steps = apps.CHAIN
    c, h = _paired(
        sizes.w3_runs,
        lambda: (
            chain(apps.plain_noop.s() for _ in range(steps))
            .apply_async()
            .get(timeout=RESULT_TIMEOUT)
        ),
        apps.chain_wf.run,
    )
    return [
        Figure(
            "w3_chain_p50",
            f"W3 chain of {steps} (p50 of {len(c)})",
            "ms",
            percentile(h, 50) * 1000,
            percentile(c, 50) * 1000,
            target=1.1,
            extra={
                "celery_p99_ms": percentile(c, 99) * 1000,
                "hatchet_p99_ms": percentile(h, 99) * 1000,
            },
        )
    ]


def w4_fan(apps: ModuleType, sizes: Sizes) -> list[Figure]:
    width = apps.FANOUT

    def celery() -> None:
        noop = apps.plain_noop
        header = [noop.si() for _ in range(width)]
        (noop.si() | chord(header, noop.si())).apply_async().get(timeout=RESULT_TIMEOUT)

    c, h = _paired(sizes.w4_runs, celery, apps.fan_wf.run)
    return [
        Figure(
            "w4_fan_p50",
            f"W4 1->{width}->1 (p50 of {len(c)})",
            "ms",
            percentile(h, 50) * 1000,
            percentile(c, 50) * 1000,
            target=1.0,
            extra={
                "celery_p99_ms": percentile(c, 99) * 1000,
                "hatchet_p99_ms": percentile(h, 99) * 1000,
            },
        )
    ]


def w5_many_workflows(apps: ModuleType, sizes: Sizes) -> list[Figure]:
    n = sizes.w5_runs
    steps = apps.CHAIN

    def celery() -> float:
        chains = [chain(apps.plain_noop.s() for _ in range(steps)) for _ in range(n)]
        return n / timed(lambda: group(chains).apply_async().get(timeout=RESULT_TIMEOUT))

    def hatchet() -> float:
        items = apps.chain_wf.create_bulk_run_item
        return n / timed(lambda: apps.chain_wf.run_many([items() for _ in range(n)]))

    rounds = max(1, sizes.rounds - 1)
    c, h = _alternate(rounds, celery, hatchet)
    return [
        Figure(
            "w5_runs_per_s",
            f"W5 {n} {steps}-step workflows at once",
            "runs/s",
            statistics.median(h),
            statistics.median(c),
            better="higher",
            target=1.0,
            note="plain Celery is a group of chains",
            extra={"celery_rounds": c, "hatchet_rounds": h},
        )
    ]


WORKLOADS: dict[str, Callable[[ModuleType, Sizes], list[Figure]]] = {
    "w1": w1_throughput,
    "w2": w2_round_trip,
    "w3": w3_chain,
    "w4": w4_fan,
    "w5": w5_many_workflows,
}


def run_workloads(apps: ModuleType, sizes: Sizes, names: list[str]) -> list[Figure]:
    warm_up(apps)
    figures: list[Figure] = []
    for name in names:
        started = time.perf_counter()
        found = WORKLOADS[name](apps, sizes)
        print(f"  {name} done in {time.perf_counter() - started:.1f}s", flush=True)
        figures += found
    return figures
