"""Child runs, on-failure / on-success tasks, the Context, and duplicate delivery."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis as redis_lib
from pydantic import BaseModel

from hatchet_celery import Context, EmptyModel, FailedTaskRunExceptionGroup, Priority
from hatchet_celery._runtime.core.hooks import Ready
from hatchet_celery._runtime.worker.executor import execute
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


class ChildIn(BaseModel):
    i: int


child = hatchet.workflow(name="CoreChild", input_validator=ChildIn)


@child.task()
def child_step(input: ChildIn, ctx: Context) -> dict[str, Any]:
    return {
        "i": input.i,
        "parent": ctx.parent_workflow_run_id,
        "meta": ctx.additional_metadata,
        "index": ctx.child_index,
        "key": ctx.child_key,
    }


@hatchet.task(name="core_spawner")
async def spawner(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    many = await child.aio_run_many(
        [child.create_bulk_run_item(ChildIn(i=i), additional_metadata={"i": i}) for i in range(3)]
    )
    first = await child.aio_run(ChildIn(i=10), child_key="same", wait_for_result=False)
    second = await child.aio_run(ChildIn(i=11), child_key="same", wait_for_result=False)
    return {
        "many": many,
        "dedupe": [first.workflow_run_id, second.workflow_run_id],
        "run_id": ctx.workflow_run_id,
    }


@hatchet.task(name="core_sync_spawner")
def sync_spawner(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {"results": child.run_many([child.create_bulk_run_item(ChildIn(i=i)) for i in range(4)])}


def test_children_link_to_parent_inherit_metadata_and_dedupe_by_key() -> None:
    out = spawner.run(additional_metadata={"tenant": "acme"})
    many = out["many"]
    assert [m["child_step"]["i"] for m in many] == [0, 1, 2]
    for idx, m in enumerate(many):
        step = m["child_step"]
        assert step["parent"] == out["run_id"]
        assert step["meta"]["tenant"] == "acme"  # inherited from the parent
        assert step["meta"]["i"] == idx  # call-site metadata on top
        assert step["index"] == idx
    first, second = out["dedupe"]
    assert first == second  # same child_key: the existing child


def test_sync_task_spawns_children_with_run_many() -> None:
    out = sync_spawner.run()
    assert [r["child_step"]["i"] for r in out["results"]] == [0, 1, 2, 3]


# --- on-failure and on-success ----------------------------------------------------------------
with_handlers = hatchet.workflow(name="CoreHandlers", input_validator=ChildIn)


@with_handlers.task()
def maybe_fail(input: ChildIn, ctx: Context) -> dict[str, int]:
    if input.i < 0:
        raise RuntimeError("negative input")
    return {"i": input.i}


@with_handlers.task(parents=[maybe_fail])
def leaf(input: ChildIn, ctx: Context) -> dict[str, int]:
    return {"leaf": input.i}


@with_handlers.on_failure_task()
def handle_failure(input: ChildIn, ctx: Context) -> dict[str, Any]:
    err = ctx.get_task_run_error(maybe_fail)
    return {"errors": ctx.task_run_errors, "type": err.exc_type if err else None}


@with_handlers.on_success_task()
def handle_success(input: ChildIn, ctx: Context) -> dict[str, Any]:
    return {"leaf": ctx.task_output(leaf)["leaf"]}


def test_on_success_runs_after_the_leaves() -> None:
    result = with_handlers.run(ChildIn(i=7))
    assert result["handle_success-on-success"] == {"leaf": 7}
    assert "handle_failure-on-failure" not in result


def test_on_failure_gets_the_errors_and_the_run_still_fails() -> None:
    ref = with_handlers.run(ChildIn(i=-1), wait_for_result=False)
    with pytest.raises(FailedTaskRunExceptionGroup):
        ref.result()
    state = hatchet._registry.client().fetch(ref.workflow_run_id)
    assert state is not None and state.status == "FAILED"
    handler = state.tasks["handle_failure-on-failure"]
    assert handler.status == "COMPLETED"
    assert handler.output["type"] == "RuntimeError"
    assert "negative input" in handler.output["errors"]["maybe_fail"]
    assert "handle_success-on-success" not in state.tasks


# --- context ------------------------------------------------------------------------------------
@hatchet.task(name="core_ctx", retries=0, default_priority=Priority.MEDIUM)
def ctx_probe(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    ctx.log("hello from the task")
    ctx.log({"structured": True})
    return {
        "workflow_run_id": ctx.workflow_run_id,
        "task_run_id": ctx.task_run_id,
        "step_run_id": ctx.step_run_id,
        "task_name": ctx.task_name,
        "workflow_name": ctx.workflow_name,
        "retry_count": ctx.retry_count,
        "attempt_number": ctx.attempt_number,
        "max_attempts": ctx.max_attempts,
        "metadata": ctx.additional_metadata,
        "priority": ctx.priority,
        "worker_id": ctx.worker_id,
        "parent": ctx.parent_workflow_run_id,
        "input": ctx.workflow_input,
    }


def test_context_properties(redis_client: redis_lib.Redis) -> None:
    ref = ctx_probe.run(EmptyModel(x=1), additional_metadata={"k": "v"}, wait_for_result=False)  # type: ignore[call-arg]
    out = ref.result()
    assert out["workflow_run_id"] == ref.workflow_run_id
    assert out["task_run_id"] == out["step_run_id"] and out["task_run_id"]
    assert out["task_name"] == "core_ctx"
    assert out["workflow_name"] == "tests_core_ctx"
    assert (out["retry_count"], out["attempt_number"], out["max_attempts"]) == (0, 1, 1)
    assert out["metadata"] == {"k": "v"}
    assert out["priority"] == 2
    assert out["worker_id"]
    assert out["parent"] is None
    assert out["input"] == {"x": 1}
    logs = hatchet.logs.list(out["task_run_id"])
    messages = [row.message for row in logs.rows]
    assert "hello from the task" in messages
    assert '{"structured": true}' in messages


# --- duplicate delivery -------------------------------------------------------------------------
@hatchet.task(name="core_counted")
def counted(input: EmptyModel, ctx: Context) -> dict[str, int]:
    client = hatchet._registry.engine().store.redis
    return {"executions": int(client.incr(f"test:count:{ctx.workflow_run_id}"))}


def test_a_duplicated_message_changes_nothing(redis_client: redis_lib.Redis) -> None:
    ref = counted.run(wait_for_result=False)
    assert ref.result() == {"executions": 1}
    run_key = hatchet._registry.engine().keys.run(ref.workflow_run_id)
    before = redis_client.hgetall(run_key)

    # The same message, executed again by the real task body (as a redelivery would be) ...
    task = counted._task
    execute(hatchet._registry, task, None, ref.workflow_run_id, task.name, 0)
    # ... and published twice more through the broker to the running worker.
    engine = hatchet._registry.engine()
    dup = Ready(counted.name, task.name, ref.workflow_run_id, "", 0)
    engine.publish_ready([dup, dup])
    sentinel = counted.run(wait_for_result=False)
    sentinel.result()
    deadline = time.time() + 5
    queue = f"hatchet.tests.{counted.name}"  # kombu keeps one list per priority step
    lists = [queue] + [f"{queue}\x06\x16{step}" for step in (3, 6, 9)]
    while time.time() < deadline and sum(redis_client.llen(k) for k in lists) > 0:
        time.sleep(0.05)

    assert redis_client.get(f"test:count:{ref.workflow_run_id}") == "1"
    assert redis_client.hgetall(run_key) == before
