"""Processes and measurements shared by every benchmark: Redis, worker subprocesses, stats.

The harness owns everything it starts: one throw-away redis-server and the worker
subprocesses (each in its own process group, stopped by its pid on exit). Timings use
``time.perf_counter``; percentiles use ``statistics.quantiles`` over every sample.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class WorkerSpec:
    """How every worker of the run is started; the same for both contenders."""

    pool: str = "threads"
    concurrency: int = 100
    processes: int = 1
    loglevel: str = "WARNING"
    prefetch: int = 1

    @classmethod
    def parse(cls, text: str) -> WorkerSpec:
        """``pool:concurrency[:prefetch_multiplier]``, e.g. ``prefork:2:4``."""
        pool, _, rest = text.partition(":")
        concurrency, _, prefetch = rest.partition(":")
        return cls(pool, int(concurrency or 100), 1, prefetch=int(prefetch or 1))

    @property
    def name(self) -> str:
        return f"{self.pool} c={self.concurrency} prefetch={self.prefetch}"

    def describe(self) -> str:
        return (
            f"{self.processes} worker process(es), pool={self.pool}, "
            f"concurrency={self.concurrency}, prefetch_multiplier={self.prefetch}, acks_late=True"
        )


class WorkerGroup:
    """``celery -A benchmarks.apps:celery_app worker`` subprocesses serving both sides."""

    def __init__(
        self,
        spec: WorkerSpec,
        redis_url: str,
        *,
        profile_dir: Path | None = None,
        env: dict[str, str] | None = None,
    ):
        self.spec = spec
        self.redis_url = redis_url
        self.profile_dir = profile_dir
        self.env = env or {}
        self.procs: list[subprocess.Popen[bytes]] = []
        self._dir = Path(tempfile.mkdtemp(prefix="hc-bench-"))

    def command(self, index: int) -> list[str]:
        celery = [
            "-m", "celery", "-A", "benchmarks.apps:celery_app", "worker",
            "-P", self.spec.pool, "-c", str(self.spec.concurrency),
            "--prefetch-multiplier", str(self.spec.prefetch), "-l", self.spec.loglevel,
            "-O", "fair",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"bench{index}-{os.getpid()}@%h",
        ]  # fmt: skip
        if self.profile_dir is not None:
            out = self.profile_dir / f"worker{index}.prof"
            return [sys.executable, "-m", "cProfile", "-o", str(out), *celery]
        return [sys.executable, *celery]

    def start(self, timeout: float = 60.0) -> WorkerGroup:
        for index in range(self.spec.processes):
            ready = self._dir / f"ready{index}"
            env = {
                **os.environ,
                "HATCHET_CELERY_REDIS_URL": self.redis_url,
                "BENCH_READY_FILE": str(ready),
                "PYTHONPATH": str(ROOT),
                **{k: v.replace("{index}", str(index)) for k, v in self.env.items()},
            }
            log = open(self._dir / f"worker{index}.log", "ab")  # noqa: SIM115 - child owns it
            proc = subprocess.Popen(
                self.command(index),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            self.procs.append(proc)
            deadline = time.monotonic() + timeout
            while not ready.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = self.log_tail(index)
                    self.stop()
                    raise RuntimeError(f"benchmark worker {index} did not start:\n{tail}")
                time.sleep(0.05)
        return self

    def log_tail(self, index: int, lines: int = 30) -> str:
        path = self._dir / f"worker{index}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 20.0) -> None:
        """Warm shutdown (SIGTERM to each worker's own process group), SIGKILL after grace."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.procs.clear()


@contextmanager
def workers(
    spec: WorkerSpec,
    redis_url: str,
    *,
    profile_dir: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[WorkerGroup]:
    """Started worker subprocesses; ``{index}`` in an ``env`` value becomes the worker's."""
    group = WorkerGroup(spec, redis_url, profile_dir=profile_dir, env=env).start()
    try:
        yield group
    finally:
        group.stop()


def exit_on_sigterm() -> None:
    """Turn SIGTERM (``timeout``, CI cancellation) into SystemExit, so the ``finally``
    blocks stop the workers and the redis-server this process started."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def timed(call: Callable[[], Any]) -> float:
    """Seconds ``call`` took (wall clock)."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def percentile(samples: list[float], pct: int) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def machine() -> dict[str, Any]:
    """What the figures were measured on (recorded with every result file)."""
    import platform

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem_gb = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    import celery
    import redis

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "celery": celery.__version__,
        "redis_py": redis.__version__,
        "load_average": os.getloadavg(),
    }
