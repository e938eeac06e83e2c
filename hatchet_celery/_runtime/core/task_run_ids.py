"""Task run ids, derived from the run id and the task name.

Every task run id of a run is known when the run is created, so ``create_run.lua`` writes
the task run index (``keys.task_runs``) for all of them in one command, and the
transitions that queue a task later (``complete``, ``fail``) write nothing there. A retry
or a replay keeps the id, as before.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("5d1c3c57-5b6e-4f4c-9a53-2f0f0a4c7e11")


def task_run_id_of(run_id: str, task: str) -> str:
    """The id of task ``task`` in run ``run_id`` (a UUID, the same in every process)."""
    return str(uuid.uuid5(_NAMESPACE, f"{run_id}/{task}"))
