"""Apps with namespaces of their own, served by subprocess workers in single tests.

(Celery's worker state is process-global, so a test process runs at most one in-process
worker: the session one. Anything else gets a WorkerProcess.)
"""

import os
from datetime import timedelta
from typing import Any

from celery import Celery, current_task

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet

# --- a task that waits in the queue past its schedule timeout ----------------------------
sched = Hatchet(config=ClientConfig(namespace="sched_timeout_test"))


@sched.task(name="waits_in_queue", schedule_timeout=timedelta(seconds=1))
def waits(input: EmptyModel, ctx: Context) -> dict[str, int]:
    return {"ran": 1}


# --- Hatchet on the user's own Celery app ----------------------------------------------------
_url = os.environ["HATCHET_CELERY_REDIS_URL"]
users_app = Celery("users_app", broker=_url, backend=_url, set_as_current=False)
users_app.conf.task_default_queue = "users_app"
users = Hatchet(app=users_app, config=ClientConfig(namespace="users_app"))


@users_app.task(name="users_app.legacy_add")
def legacy_add(x: int, y: int) -> int:
    return x + y


@users.task(name="modern")
def modern(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    request = current_task.request
    return {"root_id": request.root_id, "run": ctx.workflow_run_id, "task": request.task}
