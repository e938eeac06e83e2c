"""Fixtures of the chaos suite: its own redis-server (append-only, so it can be restarted),
worker subprocesses to kill, and the switch between the short and the full mode.

The default run (``pytest`` from the repository root, ``make test``) is the short mode: a
few hundred runs per case and the long cases skipped, well under two minutes. ``make
chaos`` sets ``HATCHET_CELERY_CHAOS_FULL=1``: thousands of runs, every case, full lengths.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from hatchet_celery import ClientConfig, Hatchet
from hatchet_celery.testing import RedisServer, WorkerProcess
from tests.chaos.apps.workflows import Declared, declare

FULL = os.environ.get("HATCHET_CELERY_CHAOS_FULL") == "1"
TARGET = "tests.chaos.apps.mixed:hatchet"

full_only = pytest.mark.skipif(
    not FULL, reason="long chaos case: run `make chaos` (HATCHET_CELERY_CHAOS_FULL=1)"
)


def scale(short: Any, full: Any) -> Any:
    """``short`` in the default run, ``full`` under ``make chaos``."""
    return full if FULL else short


@pytest.fixture
def chaos_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, append-only (appendfsync everysec, the default)."""
    server = RedisServer(appendonly=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


_clients: dict[tuple[str, str], tuple[Hatchet, Declared]] = {}


def client_for(url: str, namespace: str = "chaos", **config: Any) -> tuple[Hatchet, Declared]:
    """A ``Hatchet`` on ``url`` with the suite's workflows declared (to trigger runs)."""
    key = (url, namespace)
    if key not in _clients:
        hatchet = Hatchet(config=ClientConfig(namespace=namespace, redis_url=url, **config))
        _clients[key] = (hatchet, declare(hatchet))
    return _clients[key]


@dataclass
class Cluster:
    """Worker subprocesses of ``TARGET`` on one Redis; kills are recorded with their time."""

    url: str
    size: int = 3
    slots: int = 8
    env: dict[str, str] = field(default_factory=dict)
    target: str = TARGET
    wrapper: list[str] | None = None
    workers: list[WorkerProcess] = field(default_factory=list)
    retired: list[WorkerProcess] = field(default_factory=list)
    kills: list[tuple[int, float]] = field(default_factory=list)
    _serial: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def spawn(self) -> WorkerProcess:
        with self._lock:
            self._serial += 1
            serial = self._serial
        env = {"HATCHET_CELERY_REDIS_URL": self.url, "CHAOS_WORKER": "1", **self.env}
        worker = WorkerProcess(self.target, name=f"chaos-{serial}", slots=self.slots, env=env)
        if self.wrapper:
            worker.wrapper = list(self.wrapper)
        worker.start(timeout=60)
        with self._lock:
            self.workers.append(worker)
        return worker

    def start(self) -> Cluster:
        """Start ``size`` workers at once (each takes a second or two to import and connect)."""
        threads = [threading.Thread(target=self.spawn) for _ in range(self.size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if len(self.workers) != self.size:
            raise RuntimeError(f"only {len(self.workers)} of {self.size} workers started")
        return self

    def kill_one(self, rng: random.Random) -> int:
        """SIGKILL a random worker (recording when), then start a replacement."""
        with self._lock:
            victim = rng.choice(self.workers)
            self.workers.remove(victim)
            self.retired.append(victim)
        pid = victim.pid or 0
        self.kills.append((pid, time.time()))
        victim.kill()
        self.spawn()
        return pid

    def alive(self) -> list[int]:
        return [w.pid or 0 for w in self.workers if w.proc is not None and w.proc.poll() is None]

    def logs(self) -> str:
        return "\n".join(w.log_path.read_text(errors="replace") for w in self.workers + self.retired)

    def stop(self) -> None:
        for worker in self.workers + self.retired:
            worker.stop(grace=10)


class Killer:
    """A thread that SIGKILLs a random worker of ``cluster`` every ``every`` seconds (jittered)
    until stopped, so faults land at arbitrary points of the runs in flight."""

    def __init__(self, cluster: Cluster, every: float, seed: int = 8) -> None:
        self.cluster = cluster
        self.every = every
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-killer", daemon=True)
        self.errors: list[BaseException] = []

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def _loop(self) -> None:
        while not self._stop.wait(self.rng.uniform(0.5, 1.5) * self.every):
            try:
                self.cluster.kill_one(self.rng)
            except BaseException as exc:  # surfaced by the test
                self.errors.append(exc)
                return


@pytest.fixture
def cluster_factory() -> Iterator[Any]:
    """Build clusters that are always stopped at the end of the test."""
    made: list[Cluster] = []

    def make(url: str, **kwargs: Any) -> Cluster:
        cluster = Cluster(url, **kwargs)
        made.append(cluster)
        return cluster.start()

    try:
        yield make
    finally:
        for cluster in made:
            cluster.stop()
