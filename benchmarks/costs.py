"""What one no-op task costs each side: round trips, Redis work, CPU.

For each contender in turn, N no-op tasks are enqueued at once (W1's shape), then N / 10
chains of 10 steps (W5's shape), and these are read before and after each:

- round trips of the driver (this process) and of the worker (``roundtrips.py`` counts
  redis-py sends, one per command, pipeline or script call);
- Redis commands, including those run inside Lua scripts (``INFO commandstats``), the
  number of scripts and the server time they took, and Redis CPU (``INFO cpu``);
- CPU seconds of the worker process (all threads).

Background work (the timer pump's polls, heartbeats, idle ``BRPOP`` timeouts) is measured
over an idle second first and subtracted pro rata. ``--cprofile`` additionally runs a
``solo`` worker (tasks on its main thread) under cProfile and prints its hottest
functions.

    python -m benchmarks.costs [--n 1000] [--cprofile]
"""

from __future__ import annotations

import argparse
import pstats
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import redis
from celery import chain, group

from benchmarks import roundtrips
from benchmarks.harness import WorkerSpec, exit_on_sigterm, workers
from benchmarks.report import Figure


class Snapshot:
    def __init__(self, r: redis.Redis, counts: Path) -> None:
        stats = r.info("commandstats")
        self.commands = {k[len("cmdstat_") :]: int(v["calls"]) for k, v in stats.items()}
        evalsha = stats.get("cmdstat_evalsha", {})
        self.lua_usec = int(evalsha.get("usec", 0))
        cpu = r.info("cpu")
        self.redis_cpu = float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
        worker = roundtrips.read(counts)
        self.worker_trips = int(worker["round_trips"])
        self.worker_cpu = float(worker["cpu_s"])
        self.driver_trips = roundtrips.count()
        self.at = time.perf_counter()

    def minus(self, before: Snapshot) -> dict[str, float]:
        commands = {k: v - before.commands.get(k, 0) for k, v in self.commands.items()}
        total = sum(v for k, v in commands.items() if k not in ("info", "commandstats"))
        return {
            "seconds": self.at - before.at,
            "driver_trips": self.driver_trips - before.driver_trips,
            "worker_trips": self.worker_trips - before.worker_trips,
            "commands": float(total),
            "scripts": float(commands.get("evalsha", 0) + commands.get("eval", 0)),
            "lua_usec": float(self.lua_usec - before.lua_usec),
            "redis_cpu": self.redis_cpu - before.redis_cpu,
            "worker_cpu": self.worker_cpu - before.worker_cpu,
            **{f"cmd:{k}": float(v) for k, v in commands.items() if v},
        }


def _settle(r: redis.Redis, counts: Path, seconds: float) -> dict[str, float]:
    """What the idle system does per second (subtracted from the measured phases)."""
    time.sleep(0.2)
    before = Snapshot(r, counts)
    time.sleep(seconds)
    idle = Snapshot(r, counts).minus(before)
    return {k: v / idle["seconds"] for k, v in idle.items()}


def _work(apps: ModuleType, side: str, shape: str, n: int) -> Any:
    """The workload of one side: ``noop`` n no-op tasks at once, ``chain`` n chains of
    ``apps.CHAIN`` at once, ``single`` n no-op tasks one after the other (W2's shape)."""
    if shape == "chain":
        if side == "celery":
            chains = [chain(apps.plain_noop.s() for _ in range(apps.CHAIN)) for _ in range(n)]
            return lambda: group(chains).apply_async().get(timeout=300)
        items = [apps.chain_wf.create_bulk_run_item() for _ in range(n)]
        return lambda: apps.chain_wf.run_many(items)
    if shape == "single":
        if side == "celery":
            return lambda: [apps.plain_noop.delay().get(timeout=60) for _ in range(n)]
        return lambda: [apps.hatchet_noop.run() for _ in range(n)]
    if side == "celery":
        return lambda: group(apps.plain_noop.s() for _ in range(n)).apply_async().get(timeout=300)
    items = [apps.hatchet_noop.create_bulk_run_item() for _ in range(n)]
    return lambda: apps.hatchet_noop.run_many(items)


def measure(
    apps: ModuleType, side: str, n: int, r: redis.Redis, counts: Path, shape: str = "noop"
) -> dict[str, float]:
    """Costs per task (per chain for ``shape="chain"``) of one side, background removed."""
    work = _work(apps, side, shape, n)
    idle = _settle(r, counts, 1.0)
    before = Snapshot(r, counts)
    work()
    time.sleep(0.15)  # let the worker's counter file catch up with its last sends
    delta = Snapshot(r, counts).minus(before)
    per_task = {}
    for key, value in delta.items():
        if key == "seconds":
            continue
        background = idle.get(key, 0.0) * delta["seconds"] if key != "driver_trips" else 0.0
        per_task[key] = max(value - background, 0.0) / n
    per_task["wall_s"] = delta["seconds"]
    return per_task


def profile_figures(apps: ModuleType, redis_url: str, spec: WorkerSpec, n: int) -> list[Figure]:
    """Per-task costs of both sides (threads pool: the counter lives in the worker process)."""
    roundtrips.install()
    counts = Path(tempfile.mkdtemp(prefix="hc-bench-rt-")) / "worker{index}.json"
    r = redis.Redis.from_url(redis_url)
    pool_spec = WorkerSpec("threads", spec.concurrency, 1, spec.loglevel)
    results: dict[str, dict[str, float]] = {}
    try:
        with workers(pool_spec, redis_url, env={"BENCH_ROUND_TRIPS": str(counts)}):
            worker_counts = Path(str(counts).replace("{index}", "0"))
            _wait_for(worker_counts)
            apps.plain_noop.delay().get(timeout=60)
            apps.hatchet_noop.run()
            for side in ("celery", "hatchet"):
                results[side] = measure(apps, side, n, r, worker_counts)
                chains = measure(apps, side, max(n // 10, 10), r, worker_counts, "chain")
                results[side]["chain_commands"] = chains["commands"]
                results[side]["chain_step_cpu"] = chains["redis_cpu"] / apps.CHAIN
    finally:
        r.close()
    c, h = results["celery"], results["hatchet"]

    def fig(key: str, label: str, unit: str, scale: float = 1.0, **kw: Any) -> Figure:
        return Figure(
            f"profile_{key}", label, unit, h[key] * scale, c[key] * scale,
            extra={"celery": c, "hatchet": h}, **kw,
        )  # fmt: skip

    def at_most(value: float) -> dict[str, Any]:
        return {"target": value, "target_on": "value"}

    ceiling = "the tasks/s one Redis core carries: 1e6 / this (benchmarks.budget)"

    return [
        fig("driver_trips", "per task: driver round trips", "trips"),
        fig("worker_trips", "per task: worker round trips", "trips"),
        fig("commands", "per task: Redis commands (incl. Lua)", "cmds", **at_most(26)),
        fig("chain_commands", "per 10-step chain: Redis commands", "cmds", **at_most(200)),
        fig("scripts", "per task: Lua scripts", "scripts"),
        fig("lua_usec", "per task: Lua time in Redis", "us"),
        fig("redis_cpu", "per task: Redis CPU", "us", 1e6, target=1.0, note=ceiling),
        fig("chain_step_cpu", "per chain step: Redis CPU", "us", 1e6, target=1.0),
        fig("worker_cpu", "per task: worker CPU", "ms", 1e3),
    ]


def _wait_for(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker round-trip counter {path} never appeared")
        time.sleep(0.05)


def cprofile_worker(apps: ModuleType, redis_url: str, n: int, top: int = 25) -> None:
    """Run N no-op tasks of each side through a solo worker under cProfile; print the top."""
    folder = Path(tempfile.mkdtemp(prefix="hc-bench-prof-"))
    with workers(WorkerSpec("solo", 1, 1), redis_url, profile_dir=folder):
        apps.plain_noop.delay().get(timeout=60)
        apps.hatchet_noop.run()
        group(apps.plain_noop.s() for _ in range(n)).apply_async().get(timeout=300)
        apps.hatchet_noop.run_many([apps.hatchet_noop.create_bulk_run_item() for _ in range(n)])
        for _ in range(n // apps.CHAIN):  # chain steps: the dispatch of the next step
            apps.chain_wf.run()
    stats = pstats.Stats(str(folder / "worker0.prof"))
    print(f"\nsolo worker, {n} tasks per side and {n} chain steps, by cumulative time:")
    stats.sort_stats("cumulative").print_stats(
        r"hatchet_celery/|celery/app/trace|celery/backends/(base|redis)|kombu/transport/redis",
        top,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="tasks per side")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--cprofile", action="store_true", help="also cProfile a solo worker")
    args = parser.parse_args(argv)
    exit_on_sigterm()

    from benchmarks.report import table
    from benchmarks.run import load_apps
    from hatchet_celery.testing import RedisServer

    with RedisServer() as server:
        apps = load_apps(server.url)
        figures = profile_figures(
            apps, server.url, WorkerSpec(concurrency=args.concurrency), args.n
        )
        print(table(figures))
        if args.cprofile:
            cprofile_worker(apps, server.url, args.n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
