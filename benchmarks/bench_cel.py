"""Per-evaluation latency of CEL expressions: our fast path, our celpy path, raw celpy.

Concurrency keys and event filters are evaluated once per run or per event, so their cost
is paid on the hot path. This script times single evaluations (not batches) and prints
p50/p99 in microseconds; the goal is a fast-path p50 of at most 20 us.

    .venv/bin/python benchmarks/bench_cel.py [--n 20000]

Rows:
  fast     compile_cel(...) served without celpy
  celpy    compile_cel(...) whose shape needs celpy (or fast=False): compiled once, our
           JSON -> CEL conversion of the named variables on every call
  raw      celpy as a plain user would call it: parse + program + json_to_cel + evaluate
           on every call, no cache (fewer iterations: it is slow)
  raw-pre  celpy with a runner prepared once, json_to_cel on every call
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import celpy  # noqa: E402
from celpy.adapter import json_to_cel  # noqa: E402

from hatchet_celery._cel import compile_cel  # noqa: E402

VARIABLES: dict[str, Any] = {
    "input": {
        "user_id": "abc",
        "group": "g1",
        "units": 3,
        "items": [1, 2, 3],
        "x": "a",
        "profile": {"name": "Ada", "tags": ["a", "b"], "score": 12.5},
    },
    "additional_metadata": {"tenant": "acme"},
    "payload": {"x": "a"},
    "event_key": "user:created",
}

FAST = [
    "input.user_id",
    "'constant'",
    "additional_metadata.tenant",
    "input.user_id == 'abc'",
    "payload.x == input.x && event_key == 'user:created'",
]
SLOW = ["input.units * 2", "size(input.items) > 2"]
RAW = ["input.user_id", "input.units * 2"]


def percentiles(call: Callable[[], Any], n: int) -> tuple[float, float]:
    """p50 and p99 of ``n`` timed single calls, in microseconds."""
    for _ in range(min(n // 10, 1000)):  # warm caches and the allocator
        call()
    samples = []
    clock = time.perf_counter_ns
    gc.disable()  # a collection inside one sample is noise, not the cost of the call
    try:
        for _ in range(n):
            start = clock()
            call()
            samples.append(clock() - start)
    finally:
        gc.enable()
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] / 1000, cuts[98] / 1000


def ours(expression: str, *, fast: bool) -> Callable[[], Any]:
    program = compile_cel(expression, what="benchmark", fast=fast)
    # Each row must measure the path it is labelled with.
    assert program.has_fast_path == fast, expression
    return lambda: program.evaluate(VARIABLES)


def raw_uncached(expression: str) -> Callable[[], Any]:
    env = celpy.Environment()

    def call() -> Any:
        runner = env.program(env.compile(expression))
        return runner.evaluate({k: json_to_cel(v) for k, v in VARIABLES.items()})

    return call


def raw_prepared(expression: str) -> Callable[[], Any]:
    env = celpy.Environment()
    runner = env.program(env.compile(expression))
    return lambda: runner.evaluate({k: json_to_cel(v) for k, v in VARIABLES.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="evaluations per row")
    args = parser.parse_args()
    n: int = args.n

    rows: list[tuple[str, str, int, float, float]] = []
    for expression in FAST:
        rows.append(("fast", expression, n, *percentiles(ours(expression, fast=True), n)))
    for expression in [*SLOW, "input.user_id"]:
        # SLOW shapes have no fast plan anyway; input.user_id is forced onto celpy.
        call = ours(expression, fast=False)
        rows.append(("celpy", expression, n, *percentiles(call, n)))
    for expression in RAW:
        raw_n = max(n // 10, 100)
        rows.append(("raw", expression, raw_n, *percentiles(raw_uncached(expression), raw_n)))
        rows.append(("raw-pre", expression, n, *percentiles(raw_prepared(expression), n)))

    width = max(len(row[1]) for row in rows)
    print(f"{'path':<8} {'expression':<{width}} {'n':>6} {'p50 us':>9} {'p99 us':>9}")
    for path, expression, count, p50, p99 in rows:
        print(f"{path:<8} {expression:<{width}} {count:>6} {p50:>9.2f} {p99:>9.2f}")

    def median(path: str, expression: str = "input.user_id") -> float:
        return next(row[3] for row in rows if row[:2] == (path, expression))

    slowest = max(row[3] for row in rows if row[0] == "fast")
    verdict = "meets" if slowest <= 20 else "MISSES"
    print(f"\nslowest fast-path p50: {slowest:.2f} us ({verdict} the 20 us goal)")
    fast = median("fast")
    print(
        f"input.user_id p50 ratios: our celpy path / fast = {median('celpy') / fast:,.0f}x,"
        f" raw celpy / fast = {median('raw') / fast:,.0f}x,"
        f" prepared celpy / fast = {median('raw-pre') / fast:,.0f}x"
    )


if __name__ == "__main__":
    main()
