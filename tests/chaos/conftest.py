"""Fixtures of the chaos suite: its own redis-server (append-only, so it can be restarted),
worker subprocesses to kill, and the switch between the short and the full mode.

The default run (``pytest`` from the repository root, ``make test``) is the short subset: a
few hundred runs per case, the cases marked ``long_case`` skipped, about a minute and a
half. ``make chaos`` sets ``HATCHET_CELERY_CHAOS_FULL=1``: every case, thousands of runs,
full lengths. ``HATCHET_CELERY_CHAOS_ALL=1`` runs every case at the short scale.
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
# Every case at the short scale (a quick look at all of them while developing).
ALL = FULL or os.environ.get("HATCHET_CELERY_CHAOS_ALL") == "1"
TARGET = "tests.chaos.apps.mixed:hatchet"

long_case = pytest.mark.skipif(
    not ALL,
    reason="chaos case outside the short subset: `make chaos` runs it "
    "(HATCHET_CELERY_CHAOS_FULL=1; HATCHET_CELERY_CHAOS_ALL=1 for every case, short)",
)


def scale(short: Any, full: Any) -> Any:
    """``short`` in the default run, ``full`` under ``make chaos``."""
    return full if FULL else short


def timeout(short: float, full: float) -> pytest.MarkDecorator:
    """A per-test time limit for both modes (the suite's default is 120 s)."""
    return pytest.mark.timeout(scale(short, full))


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
        return "\n".join(
            w.log_path.read_text(errors="replace") for w in self.workers + self.retired
        )

    def stop(self) -> None:
        for worker in self.workers + self.retired:
            worker.stop(grace=10)


class Killer:
    """A thread that SIGKILLs a random worker of ``cluster`` every ``every`` seconds (jittered),
    so faults land at arbitrary points of the runs in flight.

    Leaving the block stops it, but never before ``at_least`` kills have happened: on a busy
    machine the faults are then spread over more time instead of being fewer, so a test
    asserts on the faults it asked for whatever the machine's speed (bounded by
    ``ENOUGH_TIMEOUT``; the test's own assertion on the count reports a shortfall).
    """

    ENOUGH_TIMEOUT = 300.0

    def __init__(self, cluster: Cluster, every: float, seed: int = 8, at_least: int = 0) -> None:
        self.cluster = cluster
        self.every = every
        self.at_least = at_least
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._enough = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-killer", daemon=True)
        self.errors: list[BaseException] = []
        if at_least <= 0:
            self._enough.set()

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._enough.wait(self.ENOUGH_TIMEOUT)
        self._stop.set()
        self._thread.join(timeout=120)

    def _loop(self) -> None:
        while not self._stop.wait(self.rng.uniform(0.5, 1.5) * self.every):
            try:
                self.cluster.kill_one(self.rng)
            except BaseException as exc:  # surfaced by the test
                self.errors.append(exc)
                self._enough.set()
                return
            if len(self.cluster.kills) >= self.at_least:
                self._enough.set()


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
