"""Sticky runs and worker affinity: labels with every comparator, required and weighted
routing, trigger-time labels, sticky DAGs and children, waiting for a worker, relabelling."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from hatchet_celery import (
    DesiredWorkerLabel,
    FailedTaskRunExceptionGroup,
    WorkerLabelComparator,
)
from hatchet_celery._runtime.flow.affinity import satisfies, score
from hatchet_celery.testing import WorkerProcess, wait_for_task_status
from tests.apps.flow_aff import (
    big,
    big_patient,
    hatchet,
    relabel,
    runtime,
    small_b,
    sticky,
    wants_c,
)

TARGET = "tests.apps.flow_aff:hatchet"
C = WorkerLabelComparator
LABELS = {
    "one": {"memory": 512, "model": "a", "affinity": "foo"},
    "two": {"memory": 128, "model": "a", "affinity": "bar"},
    "three": {"memory": 128, "model": "b", "affinity": "baz"},
}


@pytest.fixture(scope="module")
def workers() -> Iterator[dict[str, WorkerProcess]]:
    procs = {
        name: WorkerProcess(TARGET, name=name, slots=8, labels=labels)
        for name, labels in LABELS.items()
    }
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


def _labels_of(out: dict[str, Any]) -> dict[str, Any]:
    return dict(out["labels"])


@pytest.mark.parametrize(
    ("comparator", "value", "met"),
    [
        (C.EQUAL, 5, True),
        (C.EQUAL, "5", True),
        (C.EQUAL, 6, False),
        (C.NOT_EQUAL, 6, True),
        (C.NOT_EQUAL, 5, False),
        (C.GREATER_THAN, 4, True),
        (C.GREATER_THAN, 5, False),
        (C.GREATER_THAN_OR_EQUAL, 5, True),
        (C.GREATER_THAN_OR_EQUAL, 6, False),
        (C.LESS_THAN, 6, True),
        (C.LESS_THAN, 5, False),
        (C.LESS_THAN_OR_EQUAL, 5, True),
        (C.LESS_THAN_OR_EQUAL, 4, False),
        (None, 5, True),
    ],
)
def test_every_comparator_reads_worker_value_op_desired(
    comparator: Any, value: Any, met: bool
) -> None:
    desired = DesiredWorkerLabel(key="n", value=value, comparator=comparator)
    assert satisfies({"n": 5}, desired) is met


def test_scores_required_and_weights() -> None:
    wants = [
        DesiredWorkerLabel(key="gpu", value="yes", required=True),
        DesiredWorkerLabel(key="model", value="b", weight=10),
        DesiredWorkerLabel(key="zone", value="eu"),  # weight 100 by default
    ]
    assert score({"model": "b"}, wants) is None  # a required label is missing
    assert score({"gpu": "yes", "model": "b"}, wants) == 110
    assert score({"gpu": "yes", "zone": "eu"}, wants) == 200
    assert (
        satisfies({"n": "x"}, DesiredWorkerLabel(key="n", value=1, comparator=C.LESS_THAN)) is False
    )


def test_required_and_weighted_labels_pick_the_worker(workers: dict[str, WorkerProcess]) -> None:
    results = small_b.run_many([small_b.create_bulk_run_item() for _ in range(12)])
    # memory < 256 rules out "one"; model b (weight 10) prefers "three" over "two"
    assert {_labels_of(r)["affinity"] for r in results} == {"baz"}


def test_trigger_time_labels_apply_to_every_task_of_the_run(
    workers: dict[str, WorkerProcess],
) -> None:
    targets = ["foo", "bar", "baz", "bar", "foo", "baz"]
    results = runtime.run_many(
        [
            runtime.create_bulk_run_item(
                desired_worker_labels=[DesiredWorkerLabel(key="affinity", value=t, required=True)]
            )
            for t in targets
        ]
    )
    for target, out in zip(targets, results, strict=True):
        assert {out[t]["labels"]["affinity"] for t in ("r1", "r2", "r3")} == {target}


def test_a_sticky_run_and_its_sticky_child_stay_on_one_worker(
    workers: dict[str, WorkerProcess],
) -> None:
    results = sticky.run_many([sticky.create_bulk_run_item() for _ in range(8)])
    used = set()
    for out in results:
        ids = {out["s1a"]["worker"], out["s1b"]["worker"], out["s2"]["worker"], out["s2"]["child"]}
        assert len(ids) == 1
        used |= ids
    assert len(used) > 1  # runs were spread; each run kept to its worker


def test_no_worker_with_a_required_label_waits_then_times_out(
    workers: dict[str, WorkerProcess],
) -> None:
    ref = big.run(wait_for_result=False)
    wait_for_task_status(hatchet, ref.workflow_run_id, "flow_aff_big", "WAIT_WORKER")
    with pytest.raises(FailedTaskRunExceptionGroup, match="SCHEDULING_TIMED_OUT"):
        ref.result()


def test_a_waiting_task_runs_when_a_matching_worker_arrives(
    workers: dict[str, WorkerProcess],
) -> None:
    ref = big_patient.run(wait_for_result=False)
    time.sleep(0.3)
    with WorkerProcess(TARGET, name="large", slots=2, labels={"memory": 2048}):
        out = ref.result()
    assert out["labels"]["memory"] == 2048


def test_upserted_labels_route_later_runs(workers: dict[str, WorkerProcess]) -> None:
    with WorkerProcess(TARGET, name="relabelled", slots=2, labels={"model": "z", "memory": 4096}):
        first = relabel.run()
        # only the worker that relabelled itself has model=c now
        later = wants_c.run_many([wants_c.create_bulk_run_item() for _ in range(4)])
    assert first["labels"]["model"] == "c"
    assert {r["worker"] for r in later} == {first["worker"]}


def test_the_claim_hands_on_the_runs_routing_options() -> None:
    """A run's trigger-time labels and sticky worker come back with the claim of its task,
    so the children its completion releases are routed without reading them again."""
    import json
    import uuid

    from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet
    from hatchet_celery._runtime.worker.executor import Claimed

    h = Hatchet(config=ClientConfig(namespace=f"aff-claim-{uuid.uuid4().hex[:8]}"))
    wf = h.workflow(name="aff_claim")

    @wf.task()
    def first(input: EmptyModel, ctx: Context) -> None:
        return None

    @wf.task(parents=[first])
    def second(input: EmptyModel, ctx: Context) -> None:
        return None

    # not required: with no worker in the namespace the root is published, not parked
    wanted = DesiredWorkerLabel(key="affinity", value="bar", required=False)
    (ref,) = wf.run_many_no_wait(
        [
            wf.create_bulk_run_item(
                desired_worker_labels=[wanted], sticky=True, desired_worker_id="worker-7"
            )
        ]
    )
    engine = h._registry.engine()
    keys, run_id, now = engine.keys, ref.workflow_run_id, engine.now()
    res = engine.store.script(
        "claim",
        [keys.run(run_id), keys.leases, keys.timers, keys.status_index],
        [run_id, "first", 0, "worker-7", now, now + 30],
    )
    claimed = Claimed.parse(res, ())
    assert claimed.route.sticky_worker == "worker-7"
    assert claimed.route.labels is not None
    assert [d["key"] for d in json.loads(claimed.route.labels)] == ["affinity"]
