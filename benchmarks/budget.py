"""Where the time of one workflow step goes, and what one Redis primary can carry.

Two measurements, each for both sides on one redis-server and one worker process
(threads pool, concurrency 100, the costs benchmark's setup):

**Capacity of one Redis.** Redis CPU (``INFO cpu``, user + sys of the server, the idle
rate subtracted) per no-op task (1,000 at once) and per step of 10-step chains (100 at
once), and the ceiling it implies: the task runs per second one Redis core can serve
before it is the bottleneck, ``1e6 / µs per task``.

**Per-step latency budget.** Sequential 10-step chains (W3's shape): the chain's wall
time, the driver's ``create_run`` call, and per step the worker's spans (``stepclock``:
the task body, the ``claim`` and ``complete`` calls, the user function, the dispatch of
the next step); what is left of a step outside the task body is the broker hop (publish
to delivery, Celery's own bookkeeping). Redis-side time per command and per script comes
from the slow log recording every command (threshold 0) during this phase only.

    python -m benchmarks.budget [--chains 40] [--n 1000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import redis
from celery import chain

from benchmarks import costs, roundtrips, stepclock
from benchmarks.harness import WorkerSpec, exit_on_sigterm, workers

CHAIN_SHAPE = "chain"


def capacity(apps: ModuleType, r: redis.Redis, counts: Path, n: int) -> dict[str, dict[str, float]]:
    """Redis CPU µs per no-op task and per chain step, each side."""
    out: dict[str, dict[str, float]] = {}
    for side in ("celery", "hatchet"):
        noop = costs.measure(apps, side, n, r, counts)
        chains = costs.measure(apps, side, max(n // 10, 10), r, counts, shape=CHAIN_SHAPE)
        out[side] = {
            "noop_cpu_us": noop["redis_cpu"] * 1e6,
            "noop_cmds": noop["commands"],
            "step_cpu_us": chains["redis_cpu"] * 1e6 / apps.CHAIN,
            "chain_cmds": chains["commands"],
        }
    return out


def _slowlog_on(r: redis.Redis) -> None:
    r.config_set("slowlog-max-len", 1_000_000)
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()


def _script_shares(r: redis.Redis, scripts: dict[str, str]) -> dict[str, float]:
    """Each script's share of the time spent in scripts, from the slow log."""
    r.config_set("slowlog-log-slower-than", 10_000)
    entries: list[dict[str, Any]] = list(r.slowlog_get(1_000_000))
    r.slowlog_reset()
    usec: dict[str, float] = defaultdict(float)
    for entry in entries:
        words = entry["command"].decode(errors="replace").split()
        if len(words) > 1 and words[0].upper() == "EVALSHA":
            usec[scripts.get(words[1], words[1][:8])] += float(entry["duration"])
    total = sum(usec.values()) or 1.0
    return {name: value / total for name, value in usec.items()}


def _phase(
    r: redis.Redis, clock: Path, call: Any, chains: int, idle: dict[str, float]
) -> dict[str, Any]:
    """Sequential chains: wall times, worker spans, Redis CPU and script time."""
    before_spans, before = stepclock.read(clock), costs.Snapshot(r, clock_counts(clock))
    walls = []
    for _ in range(chains):
        start = time.perf_counter()
        call()
        walls.append(time.perf_counter() - start)
    time.sleep(0.15)
    delta = costs.Snapshot(r, clock_counts(clock)).minus(before)
    return {
        "chain_ms": statistics.fmean(walls) * 1e3,
        "spans": stepclock.minus(stepclock.read(clock), before_spans),
        "redis_cpu_us": (delta["redis_cpu"] - idle["redis_cpu"] * delta["seconds"]) * 1e6,
        "lua_us": delta["lua_usec"] - idle["lua_usec"] * delta["seconds"],
        "commands": delta["commands"] - idle["commands"] * delta["seconds"],
    }


def clock_counts(clock: Path) -> Path:
    """The worker's round-trip counter file beside its step clock file."""
    return clock.with_name(clock.name.replace("clock", "trips"))


def step_budget(
    apps: ModuleType, r: redis.Redis, clock: Path, chains: int
) -> dict[str, dict[str, Any]]:
    """Sequential chains of each side: wall times, worker spans and Redis time per step."""
    scripts = {s.sha: name for name, s in apps.hatchet._registry.engine().store._scripts.items()}
    client = apps.hatchet._registry.client()
    created: list[float] = []
    original = client._create_runs

    def timed_create(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            created.append(time.perf_counter() - start)

    client._create_runs = timed_create
    run = {
        "celery": lambda: (
            chain(apps.plain_noop.s() for _ in range(apps.CHAIN)).apply_async().get(timeout=60)
        ),
        "hatchet": apps.chain_wf.run,
    }
    out: dict[str, dict[str, Any]] = {}
    try:
        idle = costs._settle(r, clock_counts(clock), 1.0)
        for side in ("celery", "hatchet"):
            run[side]()  # warm
            out[side] = _phase(r, clock, run[side], chains, idle)
            out[side]["chains"] = chains
            out[side]["create_ms"] = statistics.fmean(created) * 1e3 if created else 0.0
        # A second, shorter pass with every command logged, only to split the script time
        # between the scripts (the slow log's own cost would inflate the figures above).
        _slowlog_on(r)
        for _ in range(max(chains // 4, 5)):
            run["hatchet"]()
        out["hatchet"]["script_shares"] = _script_shares(r, scripts)
    finally:
        client._create_runs = original
    return out


def _per(spans: dict[str, list[float]], key: str) -> float:
    calls, seconds = spans.get(key, [0, 0.0])
    return seconds / calls * 1e3 if calls else 0.0


def budget_rows(side: dict[str, Any], steps: int) -> list[tuple[str, float]]:
    """(part, ms per step) rows of one side; the parts add up to the chain's wall / steps."""
    spans = side["spans"]
    task = _per(spans, "task:hatchet") or _per(spans, "task:celery")
    step = side["chain_ms"] / steps
    rows = [("client: create the run, publish its root (/ steps)", side["create_ms"] / steps)]
    if "task:hatchet" in spans:
        claim, fn = _per(spans, "script:claim"), _per(spans, "user function")
        complete = _per(spans, "script:complete")
        dispatch = (
            _per(spans, "dispatch")
            * spans.get("dispatch", [0])[0]
            / max(spans["task:hatchet"][0], 1)
        )
        rows += [
            ("claim (script round trip)", claim),
            ("user function", fn),
            ("complete (script round trip)", complete),
            ("next publish (gates + LPUSH)", dispatch),
            ("rest of the task body (context, tracing, watchdog)",
             task - claim - fn - complete - dispatch),
        ]  # fmt: skip
    else:
        rows.append(("task body (Celery: function + result write)", task))
    rows.append(
        ("broker hop + result hand-off (outside the task body)",
         step - task - side["create_ms"] / steps)
    )  # fmt: skip
    rows.append(("= one step (chain mean / steps)", step))
    return rows


def redis_rows(side: dict[str, Any], steps: int) -> list[tuple[str, float]]:
    """(part, Redis µs per step): CPU in all, the scripts' share of it, the rest."""
    total = side["chains"] * steps
    cpu, lua = side["redis_cpu_us"] / total, side["lua_us"] / total
    rows = [("Redis CPU per step (INFO cpu)", cpu)]
    shares = side.get("script_shares", {})
    for name, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        rows.append((f"  in script {name} (commandstats x slow log share)", lua * share))
    rows.append(("  outside scripts (broker, results, network)", cpu - lua))
    rows.append(("Redis commands per step (incl. Lua)", side["commands"] / total))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="no-op tasks for the capacity")
    parser.add_argument("--chains", type=int, default=40, help="sequential chains per side")
    args = parser.parse_args(argv)
    exit_on_sigterm()

    from benchmarks.run import load_apps
    from hatchet_celery.testing import RedisServer

    folder = Path(tempfile.mkdtemp(prefix="hc-bench-budget-"))
    counts, clock = folder / "trips{index}.json", folder / "clock{index}.json"  # see clock_counts
    roundtrips.install()
    with RedisServer() as server:
        apps = load_apps(server.url)
        r = redis.Redis.from_url(server.url)
        env = {"BENCH_ROUND_TRIPS": str(counts), "BENCH_STEPCLOCK": str(clock)}
        with workers(WorkerSpec("threads", 100, 1), server.url, env=env):
            worker_counts = Path(str(counts).replace("{index}", "0"))
            worker_clock = Path(str(clock).replace("{index}", "0"))
            costs._wait_for(worker_counts)
            costs._wait_for(worker_clock)
            apps.plain_noop.delay().get(timeout=60)
            apps.hatchet_noop.run()
            cap = capacity(apps, r, worker_counts, args.n)
            budget = step_budget(apps, r, worker_clock, args.chains)
        r.close()
    print_report(cap, budget, apps.CHAIN)
    return 0


def print_report(cap: dict[str, dict[str, float]], budget: dict[str, Any], steps: int) -> None:
    c, h = cap["celery"], cap["hatchet"]
    print("\nCapacity of one Redis (Redis CPU, INFO cpu; ceiling = 1e6 / µs)")
    print(f"{'':34s} {'Celery':>10s} {'hatchet_celery':>15s} {'ratio':>7s}")
    for label, key in (("Redis CPU per no-op task, µs", "noop_cpu_us"),
                       ("Redis CPU per chain step, µs", "step_cpu_us")):  # fmt: skip
        print(f"{label:34s} {c[key]:10.0f} {h[key]:15.0f} {h[key] / c[key]:6.2f}x")
    for label, key in (("ceiling, no-op tasks/s", "noop_cpu_us"),
                       ("ceiling, chain steps/s", "step_cpu_us")):  # fmt: skip
        print(f"{label:34s} {1e6 / c[key]:10.0f} {1e6 / h[key]:15.0f} {c[key] / h[key]:6.2f}x")
    for label, key in (("Redis commands per no-op task", "noop_cmds"),
                       ("Redis commands per 10-step chain", "chain_cmds")):  # fmt: skip
        print(f"{label:34s} {c[key]:10.1f} {h[key]:15.1f} {h[key] / c[key]:6.2f}x")
    print(f"\nPer-step budget, sequential chains of {steps} (ms per step, wall clock)")
    for side in ("celery", "hatchet"):
        print(f"  {side}: chain mean {budget[side]['chain_ms']:.1f} ms")
        for label, ms in budget_rows(budget[side], steps):
            print(f"    {label:55s} {ms:7.3f}")
    print("\nRedis time per step of the same sequential chains (µs)")
    for side in ("celery", "hatchet"):
        print(f"  {side}:")
        for label, value in redis_rows(budget[side], steps):
            print(f"    {label:55s} {value:7.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
