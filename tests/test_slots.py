"""Worker slots with a cost: ``slot_cost`` reserves units of a worker's slots, and
``ctx.release_slot()`` gives them back before the task ends."""

from __future__ import annotations

from hatchet_celery.testing import WorkerProcess
from tests.apps.flow_slots import Work, heavy, light

TARGET = "tests.apps.flow_slots:hatchet"


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def test_slot_cost_reserves_units_of_the_worker() -> None:
    with WorkerProcess(TARGET, name="four-slots", slots=4):
        heavies = heavy.run_many(
            [heavy.create_bulk_run_item(Work()) for _ in range(2)], wait_for_result=False
        )
        lights = light.run_many(
            [light.create_bulk_run_item(Work()) for _ in range(2)], wait_for_result=False
        )
        h = [r.result() for r in heavies]
        lo = [r.result() for r in lights]
    # 3 + 3 > 4: the two heavy tasks never ran together
    assert not _overlap(h[0], h[1])
    # 3 + 1 + 1 > 4: a heavy task ran beside at most one light one at any time
    for x in h:
        assert not (_overlap(x, lo[0]) and _overlap(x, lo[1]) and _overlap(lo[0], lo[1]))


def test_release_slot_lets_the_next_costly_task_start_early() -> None:
    with WorkerProcess(TARGET, name="four-slots-release", slots=4):
        refs = heavy.run_many(
            [heavy.create_bulk_run_item(Work(seconds=1.0, release_after=0.2)) for _ in range(2)],
            wait_for_result=False,
        )
        first, second = sorted((r.result() for r in refs), key=lambda o: o["start"])
    # the second started once the first released its units, long before the first ended
    assert second["start"] - first["start"] >= 0.15
    assert second["start"] < first["end"] - 0.5
