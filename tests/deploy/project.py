"""A user's project built from the README, and the processes a team runs on it.

``build_project`` writes ``proj/celery.py`` and ``proj/tasks.py`` from the README's
"Inside an existing Celery deployment" blocks, verbatim, then appends the matrix workloads
to ``proj/tasks.py`` (as a team adds tasks below the ones it has). ``Proc`` runs one command
(``celery -A proj worker``, ``celery -A proj beat``, a driver phase) in its own session and
always stops it by pid.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
READY_TIMEOUT = 90.0


def readme_block(first_line: str) -> str:
    """The README's python block whose first line is ``first_line``."""
    text = (ROOT / "README.md").read_text()
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        if block.startswith(first_line):
            return str(block)
    raise AssertionError(f"README has no python block starting with {first_line!r}")


def build_project(folder: Path) -> Path:
    proj = folder / "proj"
    proj.mkdir(parents=True)
    (proj / "__init__.py").write_text("")
    (proj / "celery.py").write_text(readme_block("# proj/celery.py"))
    tasks = readme_block("# proj/tasks.py") + "\n\n" + (HERE / "matrix_tasks.py").read_text()
    (proj / "tasks.py").write_text(tasks)
    for name in ("drive.py", "worker_main.py"):
        (folder / name).write_text((HERE / name).read_text())
    return folder


class Proc:
    """One process of the deployment, logging to a file, stopped by its pid."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], log_name: str) -> None:
        self.log_path = cwd / f"{log_name}.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, needle: str, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.log():
            if not self.alive:
                raise AssertionError(f"exited before {needle!r}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} in {timeout}s:\n{self.tail()}")
            time.sleep(0.1)

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, grace: float = 30.0) -> None:
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        else:
            self.proc.wait()


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "proj", *args]


def worker_command(runner: str) -> list[str]:
    """The three ways a team starts a worker on its app."""
    if runner == "prefork":  # Celery's default pool, concurrency = cores
        return celery("worker", "--loglevel", "INFO")
    if runner == "threads":
        return celery("worker", "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO")
    if runner == "hatchet_worker":  # hatchet.worker(...).start()
        return [sys.executable, "worker_main.py"]
    raise ValueError(runner)


def drive(folder: Path, env: dict[str, str], phase: str, timeout: float = 300.0) -> Any:
    """Run one driver phase; its last output line is a JSON document."""
    done = subprocess.run(
        [sys.executable, "drive.py", phase],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"drive {phase} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])
