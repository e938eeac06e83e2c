"""The testing kit's waits, through the door a user's test takes: ``join`` drains a
namespace's runs, ``wait_for_run_status`` waits for one run, each failing with what it saw."""

from __future__ import annotations

import pytest

from hatchet_celery.testing import WorkerProcess
from hatchet_celery.testing.waiting import WaitTimeout, join, wait_for_run_status
from tests.apps.kit_join import hatchet, step


def test_join_waits_until_every_run_of_the_namespace_finished() -> None:
    refs = [step.run_no_wait() for _ in range(5)]
    with pytest.raises(WaitTimeout, match=r"5 run\(s\) of namespace 'kit_join_?' still queued"):
        join(hatchet, timeout=0.3)  # no worker yet: nothing can finish
    with pytest.raises(WaitTimeout, match="is QUEUED after"):
        wait_for_run_status(hatchet, refs[0].workflow_run_id, "COMPLETED", timeout=0.3)
    with WorkerProcess("tests.apps.kit_join:hatchet", name="kit-join", slots=2):
        join(hatchet, timeout=60)
        client = hatchet._registry.client()
        states = [client.fetch(ref.workflow_run_id) for ref in refs]
        assert [s.status if s else None for s in states] == ["COMPLETED"] * 5
        assert wait_for_run_status(hatchet, refs[0].workflow_run_id, "COMPLETED") == "COMPLETED"
