"""``make demo`` end to end: the embedded redis-server (no URL configured), a worker
process, the DAG example's result, and everything it started stopped again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hatchet_celery._embedded import EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent


def test_demo_prints_the_dag_result_and_stops_what_it_started(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HATCHET_CELERY_")}
    env["HATCHET_CELERY_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"sum":' in proc.stdout and '"step4":' in proc.stdout
    assert "started the embedded redis-server" in proc.stderr
    assert "embedded redis-server stopped" in proc.stdout
    assert not EmbeddedRedis(tmp_path / "data").is_running()
    assert (tmp_path / "data").exists()
