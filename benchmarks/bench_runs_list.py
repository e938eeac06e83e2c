"""``hatchet.runs.list`` over 100k finished runs: a filtered page must take < 100 ms.

    python -m benchmarks.bench_runs_list [--runs 100000] [--repeat 30]

The runs are made by the package's own Lua transitions (``create_run``, ``claim``,
``complete`` / ``fail``), pipelined, on a throw-away redis-server: the same hashes and
indexes a worker would leave, without waiting for 100k task executions. They are spread
over the last 20 hours, across 4 workflows and 100 tenants (a metadata pair), with 10%
failed. Each query is timed end to end through ``hatchet.runs.list`` (index walk, hash
reads, REST models), median and p95 over ``--repeat`` calls.

The plain-Celery baseline is what a Celery user has for the same question: task results
in the Redis result backend (``celery-task-meta-*``), found with SCAN and read with MGET,
filtered in Python. It is timed for the first query only (it reads everything anyway).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hatchet_celery.testing import RedisServer

WORKFLOWS = ["bench_ingest", "bench_resize", "bench_notify", "bench_report"]
TENANTS = 100
BATCH = 1000
TARGET_MS = 100.0


def populate(engine: Any, runs: int, seed: int = 7) -> dict[str, int]:
    """Create ``runs`` finished standalone-task runs through the real transitions."""
    from hatchet_celery._runtime.core.run_index import listing_keys

    rng = random.Random(seed)
    keys = engine.keys
    now = time.time()
    counts = {"COMPLETED": 0, "FAILED": 0}
    for start in range(0, runs, BATCH):
        pipe = engine.store.redis.pipeline(transaction=False)
        for i in range(start, min(runs, start + BATCH)):
            run_id, task_run_id = str(uuid.uuid4()), str(uuid.uuid4())
            task = WORKFLOWS[i % len(WORKFLOWS)]
            wf = engine.registry.config.apply_namespace(task)  # as a worker names runs
            created = now - rng.uniform(60, 20 * 3600)
            meta = {"tenant": f"t{rng.randrange(TENANTS)}", "batch": str(i // BATCH)}
            shared = [keys.runs, keys.timers, keys.status_index, keys.task_runs]
            run_keys = [keys.run(run_id), keys.run(run_id), keys.run(run_id)]
            run_keys += listing_keys(keys, wf, meta)
            args: list[Any] = [run_id, wf, "{}", json.dumps(meta), 1, created, 1, ""]
            args += ["", "", "", "", "", "", 0, "", 0, keys.run_prefix, 1, 1]
            args += [task, task_run_id, created + 30, created + 300]
            engine.store.script_in(
                pipe,
                "create_run",
                [*shared, keys.index_registry, keys.paused, *run_keys],
                [1, len(run_keys), len(args), *args],
            )
            engine.store.script_in(
                pipe,
                "claim",
                [keys.run(run_id), keys.leases, keys.timers, keys.status_index],
                [run_id, task, 0, "bench-worker", created + 0.01, created + 15],
            )
            finish = [
                keys.run(run_id),
                keys.leases,
                keys.timers,
                keys.done_channel,
                keys.status_index,
            ]
            if rng.random() < 0.1:
                error = json.dumps({"message": "boom", "type": "ValueError", "trace": ""})
                engine.store.script_in(
                    pipe,
                    "fail",
                    finish,
                    [
                        run_id,
                        task,
                        1,
                        error,
                        created + 0.5,
                        86400,
                        0,
                        created + 0.5,
                        "RUNNING",
                        "FAILED",
                        "",
                        "",
                        0,
                        0,
                        300,
                    ],
                )
                counts["FAILED"] += 1
            else:
                engine.store.script_in(
                    pipe,
                    "complete",
                    finish,
                    [
                        run_id,
                        task,
                        1,
                        '{"ok": true}',
                        created + 0.5,
                        86400,
                        "COMPLETED",
                        "",
                        "",
                        0,
                        0,
                        0,
                    ],
                )
                counts["COMPLETED"] += 1
        pipe.execute()
    return counts


def populate_celery_results(client: Any, runs: int, seed: int = 7) -> None:
    """The same runs as a plain Celery app leaves them in its Redis result backend."""
    rng = random.Random(seed)
    for start in range(0, runs, BATCH):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(runs, start + BATCH)):
            task_id = str(uuid.uuid4())
            doc = {
                "status": "FAILURE" if rng.random() < 0.1 else "SUCCESS",
                "result": {"ok": True},
                "task_id": task_id,
                "name": WORKFLOWS[i % len(WORKFLOWS)],
                "kwargs": {"tenant": f"t{rng.randrange(TENANTS)}"},
                "date_done": datetime.now(UTC).isoformat(),
            }
            pipe.set(f"celery-task-meta-{task_id}", json.dumps(doc), ex=86400)
        pipe.execute()


def celery_scan(client: Any, status: str, limit: int) -> list[dict[str, Any]]:
    """Plain Celery: SCAN every result key, MGET them, filter and sort in Python."""
    found: list[dict[str, Any]] = []
    keys = list(client.scan_iter("celery-task-meta-*", count=5000))
    for start in range(0, len(keys), 5000):
        for raw in client.mget(keys[start : start + 5000]):
            doc = json.loads(raw)
            if doc["status"] == status:
                found.append(doc)
    found.sort(key=lambda d: d["date_done"], reverse=True)
    return found[:limit]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    samples, result = [], None
    fn()  # warm the script cache and connections
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]
    return statistics.median(samples), p95, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    with RedisServer() as server:
        os.environ["HATCHET_CELERY_REDIS_URL"] = server.url
        from hatchet_celery import ClientConfig, Hatchet, V1TaskStatus

        hatchet = Hatchet(config=ClientConfig(namespace="bench_list"))
        engine = hatchet._registry.engine()
        t0 = time.perf_counter()
        counts = populate(engine, args.runs)
        print(
            f"created {args.runs} finished runs in {time.perf_counter() - t0:.1f}s "
            f"({counts['COMPLETED']} completed, {counts['FAILED']} failed)"
        )
        since = datetime.now(UTC) - timedelta(days=1)
        runs = hatchet.runs
        queries: list[tuple[str, Callable[[], Any]]] = [
            ("newest 50, no filter", lambda: runs.list(since=since, limit=50)),
            (
                "status FAILED",
                lambda: runs.list(since=since, limit=50, statuses=[V1TaskStatus.FAILED]),
            ),
            (
                "workflow + FAILED",
                lambda: runs.list(
                    since=since,
                    limit=50,
                    workflow_ids=["bench_resize"],
                    statuses=[V1TaskStatus.FAILED],
                ),
            ),
            (
                "metadata tenant=t7",
                lambda: runs.list(since=since, limit=50, additional_metadata={"tenant": "t7"}),
            ),
            (
                "workflow + tenant + COMPLETED",
                lambda: runs.list(
                    since=since,
                    limit=50,
                    workflow_ids=["bench_notify"],
                    additional_metadata={"tenant": "t42"},
                    statuses=[V1TaskStatus.COMPLETED],
                ),
            ),
            (
                "last 2 hours, FAILED",
                lambda: runs.list(
                    since=datetime.now(UTC) - timedelta(hours=2),
                    limit=50,
                    statuses=[V1TaskStatus.FAILED],
                ),
            ),
            ("page at offset 5000", lambda: runs.list(since=since, limit=50, offset=5000)),
        ]
        print(f"\n{'query':34} {'rows':>5} {'median ms':>10} {'p95 ms':>8}  < {TARGET_MS:.0f} ms")
        worst = 0.0
        for label, query in queries:
            median, p95, page = timed(query, args.repeat)
            worst = max(worst, median)
            ok = "yes" if median < TARGET_MS else "NO"
            print(f"{label:34} {len(page.rows):>5} {median:>10.1f} {p95:>8.1f}  {ok}")

        client = server.client()
        populate_celery_results(client, args.runs)
        celery_median, _, found = timed(lambda: celery_scan(client, "FAILURE", 50), 3)
        ours, _, _ = timed(queries[1][1], args.repeat)
        print(
            f"\nplain Celery (SCAN result backend) status FAILURE: {celery_median:.1f} ms "
            f"for {len(found)} rows; hatchet_celery: {ours:.1f} ms "
            f"(ratio {celery_median / ours:.0f}x)"
        )
        print(f"\nworst median: {worst:.1f} ms -> {'PASS' if worst < TARGET_MS else 'FAIL'}")
        client.close()


if __name__ == "__main__":
    main()
