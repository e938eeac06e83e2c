"""``python -m benchmarks.run``: plain Celery and hatchet_celery side by side (``make bench``).

One throw-away redis-server, one set of worker subprocesses serving both contenders from
one Celery app (``benchmarks/apps.py``), the workloads W1-W5, then the scale figures.
Prints a table (each figure for both sides and the ratio hatchet_celery / Celery) and
saves it as JSON under ``benchmarks/results/`` (``latest.json`` is the newest run).

    python -m benchmarks.run                     # both pools, everything, about 8 minutes
    python -m benchmarks.run --quick             # small sizes, a smoke run
    python -m benchmarks.run --only w1,w2 --no-scale
    python -m benchmarks.run --pools prefork:2:4 # one pool: pool:concurrency:prefetch

The workloads run once per pool: Celery's default worker (prefork, concurrency = the
2 cores here, prefetch multiplier 4) and the threads pool with concurrency 100, both sides
on the same workers each time. The scale figures (sleeping durable tasks, async slots) and
the per-task costs are measured once, on the threads pool (they are about Redis, not the
pool).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT, WorkerSpec, exit_on_sigterm, machine, workers
from benchmarks.report import Figure, save, table
from benchmarks.workloads import WORKLOADS, Sizes, run_workloads


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="workloads, e.g. w1,w3")
    parser.add_argument("--no-scale", action="store_true", help="skip the scale figures")
    parser.add_argument("--no-profile", action="store_true", help="skip per-task costs")
    parser.add_argument(
        "--pools",
        default="prefork:2:4,threads:100:1",
        help="worker pools to measure, pool:concurrency:prefetch_multiplier, comma separated",
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds per workload")
    parser.add_argument(
        "--durable", type=int, default=None, help="sleeping durable tasks (2000; --quick: 200)"
    )
    parser.add_argument("--redis-url", default="", help="use this Redis instead of a new one")
    parser.add_argument("--no-save", action="store_true", help="do not write the JSON")
    return parser.parse_args(argv)


def load_apps(redis_url: str) -> Any:
    """Import the contenders once the URL is known (the app reads it at import)."""
    os.environ["HATCHET_CELERY_REDIS_URL"] = redis_url
    return importlib.import_module("benchmarks.apps")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    sizes = Sizes.quick() if args.quick else Sizes()
    if args.rounds:
        sizes = Sizes(**{**sizes.__dict__, "rounds": args.rounds})
    specs = [WorkerSpec.parse(x.strip()) for x in args.pools.split(",") if x.strip()]
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    meta: dict[str, Any] = {
        "machine": machine(),
        "workers": [spec.describe() for spec in specs],
        "sizes": sizes.__dict__,
    }
    load = ", ".join(f"{x:.2f}" for x in meta["machine"]["load_average"])
    print(f"machine: {meta['machine']['cpu']}, {meta['machine']['cores']} cores, load {load}")

    from hatchet_celery.testing import RedisServer

    server = None
    redis_url = args.redis_url
    if not redis_url:
        server = RedisServer().start()
        redis_url = server.url
    started = time.perf_counter()
    tables: list[tuple[str, list[Figure]]] = []
    try:
        apps = load_apps(redis_url)
        meta["redis_version"] = apps.hatchet.celery_app.backend.client.info()["redis_version"]
        for spec in specs:
            print(f"workers: {spec.describe()}")
            with workers(spec, redis_url):
                print(f"running {', '.join(names)} on {spec.name} ...", flush=True)
                tables.append((spec.name, run_workloads(apps, sizes, names)))
        pool_free: list[Figure] = []
        threads = next((s for s in specs if s.pool == "threads"), WorkerSpec())
        if not args.no_scale:
            from benchmarks.scale import scale_figures

            durable = args.durable if args.durable is not None else 200 if args.quick else 2000
            with workers(threads, redis_url):
                pool_free += scale_figures(apps, redis_url, threads, sizes, durable=durable)
        if not args.no_profile:
            from benchmarks.costs import profile_figures

            pool_free += profile_figures(apps, redis_url, threads, n=min(sizes.w1_tasks, 1000))
            print("  per-task costs done", flush=True)
        if pool_free:
            tables.append(("scale and per-task costs (threads pool)", pool_free))
    finally:
        # The run-completion listener would log its reconnect attempts once Redis is gone.
        logging.getLogger("hatchet_celery").setLevel(logging.ERROR)
        if server is not None:
            server.stop()
    meta["elapsed_s"] = round(time.perf_counter() - started, 1)
    for title, figures in tables:
        print(f"\n== {title}\n")
        print(table(figures))
    print(f"\n{meta['elapsed_s']}s in all")
    if not args.no_save:
        path = save(tables, meta)
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
