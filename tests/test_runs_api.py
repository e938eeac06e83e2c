"""``hatchet.runs`` (get, details, list with its indexes, replay, bulk operations), and the
small feature clients built on the same state: workers, workflows, metrics, cel, stubs."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import (
    BulkCancelReplayOpts,
    ClientConfig,
    Context,
    EmptyModel,
    FailedTaskRunExceptionGroup,
    Hatchet,
    RunFilter,
    RunStatus,
    V1TaskStatus,
)
from hatchet_celery._runtime.core import run_index
from hatchet_celery.clients.rest.models.v1_task_event_type import V1TaskEventType
from hatchet_celery.exceptions import RunNotFoundError
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


class Flaky(BaseModel):
    fail_first: bool = False


ops_dag = hatchet.workflow(name="ops_dag", input_validator=Flaky)


@ops_dag.task()
def ops_first(input: Flaky, ctx: Context) -> dict[str, int]:
    return {"one": 1}


@ops_dag.task(parents=[ops_first])
def ops_second(input: Flaky, ctx: Context) -> dict[str, int]:
    if input.fail_first and ctx.retry_count == 0:
        raise ValueError("second fails on its first attempt")
    return {"two": ctx.task_output(ops_first)["one"] + 1}


@ops_dag.task(parents=[ops_second])
def ops_third(input: Flaky, ctx: Context) -> dict[str, int]:
    return {"three": ctx.retry_count}


@ops_dag.task()
def ops_side(input: Flaky, ctx: Context) -> dict[str, str]:
    return {"side": "ok"}


@hatchet.task(name="ops_echo")
def ops_echo(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"meta": ctx.additional_metadata}


@hatchet.task(name="ops_spawner")
async def ops_spawner(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    results = await ops_echo.aio_run_many(
        [ops_echo.create_bulk_run_item(additional_metadata={"child": str(i)}) for i in range(2)]
    )
    return {"n": len(results)}


def _noop(input: EmptyModel, ctx: Context) -> None:
    return None


def _meta() -> dict[str, str]:
    return {"ops_test": uuid.uuid4().hex}


def _failed_dag(meta: dict[str, str]) -> str:
    ref = ops_dag.run(Flaky(fail_first=True), wait_for_result=False, additional_metadata=meta)
    with pytest.raises(FailedTaskRunExceptionGroup):
        ref.result()
    return str(ref.workflow_run_id)


# --- one run -----------------------------------------------------------------------------
def test_get_details_lists_created_task_runs_with_status_output_and_error() -> None:
    meta = _meta()
    run_id = _failed_dag(meta)
    details = hatchet.runs.get_details(run_id)
    assert details.status == RunStatus.FAILED and details.done
    assert meta.items() <= (details.additional_metadata or {}).items()
    assert details.input == {"fail_first": True}
    # ops_third never ran (its parent failed): not a task run
    assert set(details.task_runs) == {"ops_first", "ops_second", "ops_side"}
    assert details.task_runs["ops_first"].output == {"one": 1}
    second = details.task_runs["ops_second"]
    assert second.status == V1TaskStatus.FAILED and second.output is None
    assert second.error is not None and "second fails" in second.error
    assert hatchet.runs.get_status(run_id) == V1TaskStatus.FAILED


def test_get_has_tasks_and_a_history_with_each_attempt() -> None:
    ref = ops_dag.run(Flaky(), wait_for_result=False)
    ref.result()
    run_id = ref.workflow_run_id
    details = hatchet.runs.get(run_id)
    assert details.run.status == V1TaskStatus.COMPLETED
    assert details.run.output["ops_second"] == {"two": 2}
    names = sorted(t.display_name.rsplit("-", 1)[0] for t in details.tasks)
    assert names == ["ops_first", "ops_second", "ops_side", "ops_third"]
    finished = [e for e in details.task_events if e.event_type == V1TaskEventType.FINISHED]
    assert {e.task_id for e in finished} == {t.metadata.id for t in details.tasks}
    assert hatchet.runs.get_result(run_id)["ops_third"] == {"three": 0}
    task = details.tasks[0]
    assert hatchet.runs.get_task_run(task.metadata.id).workflow_run_external_id == run_id


def test_unknown_ids_raise_not_found() -> None:
    with pytest.raises(RunNotFoundError):
        hatchet.runs.get_details(str(uuid.uuid4()))
    with pytest.raises(RunNotFoundError):
        hatchet.runs.get_task_run(str(uuid.uuid4()))
    with pytest.raises(RunNotFoundError):
        hatchet.runs.cancel(str(uuid.uuid4()))


async def test_aio_twins_answer_like_their_sync_method() -> None:
    ref = await ops_echo.aio_run(wait_for_result=False)
    await ref.aio_result()
    details = await hatchet.runs.aio_get_details(ref.workflow_run_id)
    assert details.status == RunStatus.COMPLETED
    assert (await hatchet.runs.aio_get(ref.workflow_run_id)).run.metadata.id == details.external_id
    assert hatchet.runs.aio_list.__name__ == "aio_list"


# --- listing -------------------------------------------------------------------------------
def test_list_filters_by_metadata_status_workflow_and_paginates() -> None:
    meta = _meta()
    failed = _failed_dag(meta)
    done = [ops_echo.run(wait_for_result=False, additional_metadata=meta) for _ in range(3)]
    for ref in done:
        ref.result()
    rows = hatchet.runs.list(additional_metadata=meta).rows
    assert len(rows) == 4
    assert [r.created_at for r in rows] == sorted((r.created_at for r in rows), reverse=True)

    only_failed = hatchet.runs.list(additional_metadata=meta, statuses=[V1TaskStatus.FAILED])
    assert [r.metadata.id for r in only_failed.rows] == [failed]
    dag_row = only_failed.rows[0]
    assert dag_row.children is not None and len(dag_row.children) == 3  # DAG: its task runs

    echo = hatchet.runs.list(additional_metadata=meta, workflow_ids=[ops_echo.id])
    assert {r.metadata.id for r in echo.rows} == {r.workflow_run_id for r in done}
    assert all(r.workflow_id == ops_echo.id and r.children is None for r in echo.rows)

    first = hatchet.runs.list(additional_metadata=meta, limit=3)
    second = hatchet.runs.list(additional_metadata=meta, limit=3, offset=3)
    assert len(first.rows) == 3 and first.pagination.next_page == 2
    assert len(second.rows) == 1 and second.pagination.next_page is None
    assert {r.metadata.id for r in first.rows + second.rows} == {r.metadata.id for r in rows}

    assert hatchet.runs.list(additional_metadata=meta, since=datetime.now(UTC)).rows == []
    tasks = hatchet.runs.list(additional_metadata=meta, workflow_ids=[ops_dag.id], only_tasks=True)
    assert sorted(t.display_name.rsplit("-", 1)[0] for t in tasks.rows) == [
        "ops_first",
        "ops_second",
        "ops_side",
    ]


def test_list_metadata_pairs_match_any_and_parent_finds_children() -> None:
    a, tag = _meta(), uuid.uuid4().hex
    ra = ops_echo.run(wait_for_result=False, additional_metadata={"ops_a": tag})
    rb = ops_echo.run(wait_for_result=False, additional_metadata={"ops_b": tag})
    ra.result(), rb.result()
    either = hatchet.runs.list(additional_metadata={"ops_a": tag, "ops_b": tag})
    assert {r.metadata.id for r in either.rows} == {ra.workflow_run_id, rb.workflow_run_id}
    one = hatchet.runs.list(additional_metadata={"ops_a": tag, "ops_b": "nothing"})
    assert [r.metadata.id for r in one.rows] == [ra.workflow_run_id]

    parent = ops_spawner.run(wait_for_result=False, additional_metadata=a)
    assert parent.result()["n"] == 2
    children = hatchet.runs.list(parent_task_external_id=parent.workflow_run_id)
    assert len(children.rows) == 2
    assert all(
        r.additional_metadata and r.additional_metadata["ops_test"] == a["ops_test"]
        for r in children.rows
    )
    task_run_id = hatchet.runs.get_details(parent.workflow_run_id).task_runs["ops_spawner"]
    by_task = hatchet.runs.list(parent_task_external_id=task_run_id.external_id)
    assert {r.metadata.id for r in by_task.rows} == {r.metadata.id for r in children.rows}


def test_list_repairs_a_stale_status_index_entry(redis_client: Any) -> None:
    meta = _meta()
    ref = ops_echo.run(wait_for_result=False, additional_metadata=meta)
    ref.result()
    keys = hatchet._registry.engine().keys
    # As if a transition had not updated the index: file the finished run under RUNNING.
    state = hatchet._registry.client().fetch(ref.workflow_run_id)
    assert state is not None
    running = run_index.STATUS_RANK["RUNNING"] * run_index.RANK_SPAN + state.created_at * 1000
    redis_client.zadd(keys.status_index, {ref.workflow_run_id: running})
    stale = hatchet.runs.list(additional_metadata=meta, statuses=[V1TaskStatus.RUNNING])
    assert stale.rows == []
    fixed = hatchet.runs.list(additional_metadata=meta, statuses=[V1TaskStatus.COMPLETED])
    assert [r.metadata.id for r in fixed.rows] == [ref.workflow_run_id]
    score = redis_client.zscore(keys.status_index, ref.workflow_run_id)
    assert int(score // run_index.RANK_SPAN) == run_index.STATUS_RANK["COMPLETED"]


def test_retention_trims_the_indexes_of_old_runs(redis_client: Any) -> None:
    # A namespace of its own (no worker: the run stays queued), as trimming is global.
    other = Hatchet(config=ClientConfig(namespace="ops_trim"))
    lone = other.workflow(name="ops_trim_wf")
    lone.task()(_noop)
    engine = other._registry.engine()
    meta = _meta()
    ref = lone.run(wait_for_result=False, additional_metadata=meta)
    md_key = run_index.metadata_key(engine.keys, "ops_test", meta["ops_test"])
    assert md_key is not None and redis_client.zscore(md_key, ref.workflow_run_id) is not None
    later = time.time() + engine.config.retention_seconds + run_index.RETENTION_MARGIN + 10
    run_index.Trimmer().trim(engine, later)
    assert redis_client.zscore(md_key, ref.workflow_run_id) is None
    assert redis_client.zscore(engine.keys.status_index, ref.workflow_run_id) is None
    assert not redis_client.sismember(engine.keys.index_registry, md_key)


# --- replay and bulk -------------------------------------------------------------------------
def test_replay_reruns_the_failed_task_and_its_descendants_with_retry_count_up() -> None:
    run_id = _failed_dag(_meta())
    before = hatchet.runs.get_details(run_id)
    hatchet.runs.replay(run_id)
    result = hatchet.runs.get_run_ref(run_id).result()
    assert result["ops_second"] == {"two": 2}
    assert result["ops_third"] == {"three": 0}  # never ran before: first attempt
    after = hatchet.runs.get_details(run_id)
    assert after.status == RunStatus.COMPLETED
    # the completed root was not re-run; the failed task got attempt 2 and kept its id
    assert after.task_runs["ops_first"].external_id == before.task_runs["ops_first"].external_id
    row = hatchet.runs.get_task_run(after.task_runs["ops_second"].external_id)
    assert row.retry_count == 1 and row.attempt == 2


def test_replay_of_a_completed_run_starts_again_from_its_roots() -> None:
    ref = ops_dag.run(Flaky(), wait_for_result=False)
    ref.result()
    hatchet.runs.replay(ref.workflow_run_id)
    # by its run id the whole DAG runs again, every step with retry_count + 1 (Hatchet)
    assert ref.result()["ops_third"] == {"three": 1}
    first = hatchet.runs.get_details(ref.workflow_run_id).task_runs["ops_first"]
    assert hatchet.runs.get_task_run(first.external_id).retry_count == 1


async def test_bulk_replay_by_filter_and_bulk_cancel_by_ids() -> None:
    meta = _meta()
    start = datetime.now(UTC) - timedelta(seconds=1)
    refs = [
        await ops_dag.aio_run(
            Flaky(fail_first=True), wait_for_result=False, additional_metadata=meta
        )
        for _ in range(3)
    ]
    for ref in refs:
        with pytest.raises(FailedTaskRunExceptionGroup):
            await ref.aio_result()
    await hatchet.runs.aio_bulk_replay(
        BulkCancelReplayOpts(
            filters=RunFilter(
                since=start,
                workflow_ids=[ops_dag.id],
                additional_metadata=meta,
                statuses=[V1TaskStatus.FAILED],
            )
        )
    )
    for ref in refs:
        assert (await ref.aio_result())["ops_third"] == {"three": 0}
    rows = (await hatchet.runs.aio_list(additional_metadata=meta)).rows
    assert len(rows) == 3
    assert all(r.status == V1TaskStatus.COMPLETED and r.retry_count == 1 for r in rows)
    # cancelling finished runs changes nothing
    await hatchet.runs.aio_bulk_cancel(BulkCancelReplayOpts(ids=[r.metadata.id for r in rows]))
    assert all(
        r.status == V1TaskStatus.COMPLETED
        for r in (await hatchet.runs.aio_list(additional_metadata=meta)).rows
    )
    with pytest.raises(ValueError):
        BulkCancelReplayOpts()


def test_create_triggers_by_name() -> None:
    details = hatchet.runs.create("ops_echo", {}, additional_metadata={"via": "create"})
    result = hatchet.runs.get_run_ref(details.run.metadata.id).result()
    assert result["ops_echo"]["meta"]["via"] == "create"


# --- other feature clients -----------------------------------------------------------------
def test_workers_workflows_metrics_and_cel() -> None:
    ops_echo.run()
    workers = hatchet.workers.list().rows or []
    active = [w for w in workers if w.status is not None and w.status.value == "ACTIVE"]
    assert active, "the session worker heartbeats"
    assert hatchet.workers.get(active[0].metadata.id).name == active[0].name
    names = {w.name for w in hatchet.workflows.list().rows or []}
    assert {ops_dag.name, ops_echo.name} <= names
    assert hatchet.workflows.get(ops_dag.id).name == ops_dag.name
    metrics = hatchet.metrics.get_task_metrics(workflow_ids=[ops_echo.id])
    assert metrics.completed >= 1
    assert hatchet.cel.debug("input.x > 1", {"x": 2}).result.status == "success"
    failure = hatchet.cel.debug("input.x >", {"x": 2}).result
    assert failure.status == "failure"


def test_stub_task_triggers_the_implementation_by_name() -> None:
    class EchoOut(BaseModel):
        meta: dict[str, Any]

    stub = hatchet.stubs.task(name="ops_echo", output_validator=EchoOut)
    out = stub.run(additional_metadata={"stub": "yes"})
    assert isinstance(out, EchoOut) and out.meta["stub"] == "yes"
    wf_stub = hatchet.stubs.workflow(
        name="ops_dag", input_validator=Flaky, default_additional_metadata={"from": "stub"}
    )
    ref = wf_stub.run(Flaky(), wait_for_result=False)
    assert ref.result()["ops_third"] == {"three": 0}
    assert hatchet.runs.get_details(ref.workflow_run_id).additional_metadata == {"from": "stub"}
