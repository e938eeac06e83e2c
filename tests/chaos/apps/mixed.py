"""Worker target of the chaos suite: every workflow of ``workflows.py``, and a listener that
logs each outcome the runtime accepted (so a test can count outcomes per task run)."""

from __future__ import annotations

import json
import os
from typing import Any

from hatchet_celery import ClientConfig, Hatchet
from hatchet_celery._runtime.hooks import TASK_FINISHED
from tests.chaos.apps.workflows import OUTCOMES, declare

hatchet = Hatchet(config=ClientConfig(namespace=os.environ.get("CHAOS_NAMESPACE", "chaos")))
declared = declare(hatchet)


def _log_outcome(engine: Any, task: Any, run_id: str, status: str) -> None:
    line = {"r": run_id, "t": task.name, "st": status, "p": os.getpid()}
    engine.store.redis.rpush(OUTCOMES, json.dumps(line))


TASK_FINISHED.append(_log_outcome)
