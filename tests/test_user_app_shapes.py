"""Other shapes of a user's project than the README's: the Django-style layout.

``proj/__init__.py`` exports the app, ``proj/celery.py`` reads settings with
``config_from_object("proj.settings", namespace="CELERY")`` *after* ``Hatchet(app=app)`` and
finds the tasks with ``autodiscover_tasks``, so the Hatchet tasks are declared only when the
worker imports them. ``celery -A proj worker`` must still serve them, and
``celery -A proj inspect registered`` must list them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from socket import gethostname

import pytest

from tests.deploy.project import Proc, celery
from tests.test_deployments import cell_env

FILES = {
    "proj/__init__.py": """
from .celery import app as celery_app

__all__ = ("celery_app",)
""",
    "proj/settings.py": """
import os

CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
CELERY_TASK_DEFAULT_QUEUE = "proj-default"
""",
    "proj/celery.py": """
from celery import Celery

from hatchet_celery import Hatchet

app = Celery("proj")
hatchet = Hatchet(app=app)
app.config_from_object("proj.settings", namespace="CELERY")
app.autodiscover_tasks(["proj"])
""",
    "proj/tasks.py": """
from hatchet_celery import Context, EmptyModel
from proj.celery import hatchet

django_style = hatchet.workflow(name="DjangoStyle")


@django_style.task()
def first(input: EmptyModel, ctx: Context) -> dict[str, int]:
    return {"n": 1}


@django_style.task(parents=[first])
def second(input: EmptyModel, ctx: Context) -> dict[str, int]:
    return {"n": ctx.task_output(first)["n"] + 1}
""",
}


@pytest.mark.timeout(240)
def test_django_style_project_with_autodiscovery(redis_url: str, tmp_path: Path) -> None:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text.lstrip())
    broker = redis_url.rsplit("/", 1)[0] + "/2"
    env = cell_env("django_style", broker, redis_url, tmp_path)
    worker = Proc(
        celery("worker", "--pool", "threads", "-c", "4", "-l", "INFO"), tmp_path, env, "w"
    )
    try:
        worker.wait_for_log(" ready.")
        trigger = "from proj.tasks import django_style; print(django_style.run())"
        out = subprocess.run(
            [sys.executable, "-c", trigger],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "{'first': {'n': 1}, 'second': {'n': 2}}"
        inspect = subprocess.run(
            # one destination: inspect returns as soon as that worker answered
            celery("inspect", "registered", "--timeout", "30", "-d", f"celery@{gethostname()}"),
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "hatchet.django_style_DjangoStyle.first" in inspect.stdout, inspect
        assert worker.alive
    finally:
        worker.stop()
    assert "proj-default" in worker.log()  # the settings were read (the user's default queue)
