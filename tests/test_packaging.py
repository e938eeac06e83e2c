"""A plain ``pip install`` of the wheel (no extras) runs the README's quickstart.

The wheel is built from this checkout, installed into a fresh virtualenv with nothing else
(no dev extra, no system site-packages), and the README's quickstart module, copied
verbatim, is served by ``python proj.py`` (``hatchet.worker(...).start()``) on the embedded
redis-server, triggered from another process, then the embedded server is stopped with the
CLI as a user types it. This is the path ``pip install hatchet-celery`` and the Dockerfile's
``pip install .`` take.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.deploy.project import Proc, readme_block

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.timeout(900)
def test_wheel_in_a_clean_venv_runs_the_quickstart(tmp_path: Path) -> None:
    # A user's shell: none of this suite's settings or paths.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HATCHET_", "PYTHON", "CELERY_", "VIRTUAL_ENV"))
    }
    env["HATCHET_CELERY_DATA_DIR"] = str(tmp_path / "embedded")  # the embedded default
    # The source as a user gets it (what git tracks), built by pip in isolation.
    source = tmp_path / "source"
    source.mkdir()
    tracked = run(["git", "ls-files", "pyproject.toml", "README.md", "hatchet_celery"], cwd=ROOT)
    for name in tracked.stdout.split():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        env=env)  # fmt: skip
    (wheel,) = wheels.glob("hatchet_celery-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    python = str(env_dir / "bin" / "python")
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], env=env)
    # nothing of the dev extra came along
    missing = run(
        [python, "-c", "import importlib.util as u; print(u.find_spec('pytest'))"], env=env
    )
    assert missing.stdout.strip() == "None"

    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "proj.py").write_text(readme_block("# proj.py"))
    worker = Proc([python, "proj.py"], app_dir, env, "worker")
    try:
        worker.wait_for_log(" ready.")
        out = run([python, "-c", "from proj import dag; print(dag.run())"], cwd=app_dir, env=env)
        assert out.stdout.strip() == "{'first': {'n': 1}, 'second': {'n': 2}, 'total': {'sum': 3}}"
    finally:
        worker.stop()
        cli = env_dir / "bin" / "hatchet-celery"
        stopped = subprocess.run([str(cli), "embedded", "stop"], cwd=app_dir, env=env,
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
    assert stopped.returncode == 0 and "stopped" in (stopped.stdout + stopped.stderr).lower()
