"""Real Celery workers for tests: in this process (a thread) or as a subprocess.

``in_process_worker(hatchet)`` serves every workflow declared on that ``Hatchet``'s
registry from a thread of the test process; declare workflows before starting it (Celery
builds its task table at start). ``WorkerProcess`` runs ``hatchet.worker(...).start()``
in a child process, for tests that kill or restart workers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hatchet_celery.exceptions import ConfigurationError


@contextmanager
def in_process_worker(hatchet: Any, slots: int = 20, pool: str = "threads") -> Iterator[Any]:
    """A Celery worker on a thread, serving ``hatchet``'s registry until the block exits.

    One at a time per process: Celery's worker state is process-global, so stopping one
    in-process worker stops every other one too. Use ``WorkerProcess`` for more.
    """
    from celery.contrib.testing.worker import start_worker

    app = hatchet.celery_app
    with start_worker(
        app,
        pool=pool,
        concurrency=slots,
        perform_ping_check=False,
        shutdown_timeout=10.0,
        loglevel="WARNING",
    ) as worker:
        yield worker


_MAIN = """
import sys, importlib
from pathlib import Path
from celery.signals import worker_ready
ready = Path(sys.argv[3])
worker_ready.connect(lambda **_: ready.write_text("ready"), weak=False)
module, _, attr = sys.argv[1].partition(":")
hatchet = getattr(importlib.import_module(module), attr or "hatchet")
import json
options = json.loads(sys.argv[2])
hatchet.worker(options.pop("name"), **options).start()
"""


class WorkerProcess:
    """``hatchet.worker(name, slots=...).start()`` in a subprocess, for crash tests.

    ``target`` is ``"module:attribute"`` of a ``Hatchet`` whose module declares the
    workflows; the child inherits this process's environment (``HATCHET_CELERY_*``).
    """

    def __init__(
        self,
        target: str,
        *,
        name: str = "test-worker",
        slots: int = 10,
        labels: dict[str, str | int] | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        wrapper: list[str] | None = None,
    ) -> None:
        self.target = target
        # A command the interpreter runs under (``["ip", "netns", "exec", "ns1"]``): it must
        # exec the interpreter in place, so ``pid`` stays the worker's own.
        self.wrapper = list(wrapper or [])
        self.options: dict[str, Any] = {"name": name, "slots": slots}
        if labels:
            self.options["labels"] = labels
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="hc-worker-"))
        self.log_path = self._dir / "worker.log"

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        import json

        ready = self._dir / "ready"
        ready.unlink(missing_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.proc = subprocess.Popen(
            [
                *self.wrapper,
                sys.executable,
                "-c",
                _MAIN,
                self.target,
                json.dumps(self.options),
                str(ready),
            ],
            env=self.env,
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.time() + timeout
        while not ready.exists():
            if self.proc.poll() is not None:
                raise ConfigurationError(f"worker exited early:\n{self.log_tail()}")
            if time.time() > deadline:
                self.kill()
                raise ConfigurationError(f"worker not ready in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing in flight is handed back."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM (Celery's warm shutdown), then SIGKILL after ``grace`` seconds."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.cleanup()

    def cleanup(self) -> None:
        """Remove the worker's folder (its log and ready file) once it is stopped."""
        if self.proc is None or self.proc.poll() is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
