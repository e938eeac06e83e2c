"""How long the dashboard's pages take with many runs in Redis (not a test: run it by hand).

    .venv/bin/python -m tests.dashboard.bench_runs_page 100000

Starts its own redis-server, creates N runs of a no-op task (no worker: they stay
queued, the worst case for the pages that read active runs), serves the dashboard on
127.0.0.1 and times a few requests. The figures in docs/dashboard.md come from here.
"""

from __future__ import annotations

import os
import sys
import time


def main(count: int) -> None:
    from hatchet_celery.testing import RedisServer

    server = RedisServer()
    server.start()
    os.environ["HATCHET_CELERY_REDIS_URL"] = server.url
    try:
        run(count)
    finally:
        server.stop()


def run(count: int) -> None:
    import httpx

    from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet
    from hatchet_celery.dashboard import create_app
    from tests.dashboard.harness import DashboardServer

    hatchet = Hatchet(config=ClientConfig(namespace="bench_dash"))

    @hatchet.task(name="bench_noop")
    def bench_noop(input: EmptyModel, ctx: Context) -> dict[str, str]:
        return {}

    started = time.time()
    for batch in range(max(1, count // 1000)):
        items = [
            bench_noop.create_bulk_run_item(additional_metadata={"batch": str(batch % 10)})
            for _ in range(min(1000, count))
        ]
        bench_noop.run_many_no_wait(items)
    print(f"created {count} runs in {time.time() - started:.1f} s")
    dashboard = DashboardServer(create_app(hatchet, celery_events=False)).start()
    try:
        with httpx.Client(base_url=dashboard.url, timeout=60) as client:
            for path in (
                "/",
                "/",
                "/?status=QUEUED",
                "/?meta=batch=3",
                "/?page=50",
                "/api/runs",
                "/metrics",
                "/metrics-page",
                "/workers",
                "/flow",
            ):
                t = time.perf_counter()
                status = client.get(path).status_code
                print(f"{path:18s} {status} {(time.perf_counter() - t) * 1000:8.1f} ms")
    finally:
        dashboard.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
