"""Fixtures for the dashboard tests: a worker process for ``tests/dashboard/app.py`` and
dashboard servers (uvicorn on a thread, bound to 127.0.0.1 on a free port).

Every process and thread started here is stopped by the fixture that started it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "results.artifacts"


class DashboardServer:
    """``create_app(hatchet, **options)`` served by uvicorn on a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, log_level="warning", timeout_graceful_shutdown=2, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self, timeout: float = 20.0) -> DashboardServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


@pytest.fixture(scope="module")
def dash_worker() -> Iterator[Any]:
    from hatchet_celery.testing import WorkerProcess

    worker = WorkerProcess(
        "tests.dashboard.app:hatchet", name="dash-worker", slots=10, cwd=str(ROOT)
    )
    worker.start(timeout=60)
    try:
        yield worker
    finally:
        worker.stop()
        worker.cleanup()


@pytest.fixture(scope="module")
def serve() -> Iterator[Callable[..., DashboardServer]]:
    """``serve(**create_app options)``: a started server, stopped with the module."""
    from hatchet_celery.dashboard import create_app
    from tests.dashboard.app import hatchet

    started: list[DashboardServer] = []

    def start(**options: Any) -> DashboardServer:
        options.setdefault("celery_events", False)
        options.setdefault("poll_interval", 0.2)
        server = DashboardServer(create_app(hatchet, **options)).start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="module")
def dashboard(serve: Callable[..., DashboardServer]) -> DashboardServer:
    """The default dashboard (loopback, no credentials, actions on)."""
    return serve()
