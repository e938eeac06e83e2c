"""Names of issue 13's signature list, with Hatchet's parameter names and defaults, and
what each does here."""

from __future__ import annotations

import asyncio
import inspect
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

import pytest

from hatchet_celery import ClientConfig, Context, Depends, EmptyModel, RateLimitDuration
from hatchet_celery.features.metrics import MetricsClient
from hatchet_celery.features.workflows import WorkflowsClient
from hatchet_celery.runnables.task import Task
from hatchet_celery.runnables.workflow import BaseWorkflow
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


def _params(fn: Any) -> dict[str, Any]:
    return {n: p.default for n, p in inspect.signature(fn).parameters.items() if n != "self"}


def test_signatures_match_hatchet() -> None:
    empty = inspect.Parameter.empty
    assert _params(BaseWorkflow.pause) == {
        "queue_ttl": empty,
        "paused_workflow_cron_run_queue_behavior": "QUEUE",
        "paused_workflow_scheduled_run_queue_behavior": "QUEUE",
    }
    assert _params(BaseWorkflow.list_runs) == {
        "since": None, "until": None, "limit": 100, "offset": None, "statuses": None,
        "additional_metadata": None, "worker_id": None, "parent_task_external_id": None,
        "only_tasks": False, "triggering_event_external_id": None,
    }  # fmt: skip
    assert _params(BaseWorkflow.create_filter) == {
        "expression": empty, "scope": empty, "payload": None,
    }  # fmt: skip
    for name in ("pause", "unpause", "delete", "list_runs", "create_filter"):
        assert inspect.iscoroutinefunction(getattr(BaseWorkflow, f"aio_{name}"))
    assert _params(Task.call) == {"ctx": empty, "dependencies": None}
    assert inspect.iscoroutinefunction(Task.aio_call)
    assert _params(WorkflowsClient.get_version) == {"workflow_id": empty, "version": None}
    assert _params(WorkflowsClient.pause)["paused_workflow_cron_run_queue_behavior"] == "QUEUE"
    assert _params(MetricsClient.get_task_stats) == {}
    assert _params(Context.pause_rate_limit) == {"key": empty, "until": empty}
    assert not inspect.iscoroutinefunction(Context.aio_task_output)
    assert _params(ClientConfig.apply_namespace) == {
        "resource_name": empty, "namespace_override": None,
    }  # fmt: skip
    assert list(_params(Depends.__init__)) == ["fn"]


def test_apply_namespace() -> None:
    config = ClientConfig(namespace="team")
    assert config.apply_namespace("wf") == "team_wf"
    assert config.apply_namespace("team_wf") == "team_wf"
    assert config.apply_namespace("wf", namespace_override="other") == "other_wf"
    assert config.apply_namespace(None) is None


def _dep(input: Any, ctx: Context) -> int:
    return 7


def test_depends_fn_is_kept_and_marked_internal() -> None:
    marker = Depends(_dep)
    with pytest.warns(DeprecationWarning):
        assert marker.fn is _dep


sig_wf = hatchet.workflow(name="sig_wf", version="v3")


@sig_wf.task()
def sig_helper(
    input: EmptyModel, ctx: Context, seven: Annotated[int, Depends(_dep)]
) -> dict[str, int]:
    return {"value": seven}


@sig_wf.task()
async def sig_async_helper(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"async": "yes"}


@sig_wf.task(parents=[sig_async_helper])
async def sig_caller(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {
        "sync": sig_helper.call(ctx, {"seven": 8}),
        "async": await sig_async_helper.aio_call(ctx),
        "parent": ctx.aio_task_output(sig_async_helper),
    }


def test_call_runs_the_function_with_the_context() -> None:
    result = sig_wf.run()  # (aio_task_output warns it is deprecated, as in Hatchet)
    assert result["sig_caller"] == {
        "sync": {"value": 8},
        "async": {"async": "yes"},
        "parent": {"async": "yes"},
    }
    with pytest.raises(TypeError, match="not an async function"):
        asyncio.run(sig_helper.aio_call(cast(Any, None)))


def test_output_validator_of_a_standalone() -> None:
    @hatchet.task(name="sig_typed")
    def sig_typed(input: EmptyModel, ctx: Context) -> EmptyModel:
        return EmptyModel()

    assert sig_typed.output_validator_type is EmptyModel
    assert sig_typed._task.output_validator.validate_python({}) == EmptyModel()


def test_get_version() -> None:
    version = hatchet.workflows.get_version(sig_wf.id)
    assert version.version == "v3"
    assert version.workflow_id == sig_wf.id
    assert version.workflow is not None and version.workflow.name == sig_wf.id
    with pytest.raises(ValueError, match="no version 'v1'"):
        hatchet.workflows.get_version(sig_wf.id, "v1")


@hatchet.task(name="sig_rl_pauser")
def sig_rl_pauser(input: EmptyModel, ctx: Context) -> dict[str, str]:
    until = ctx.pause_rate_limit("sig-rl-key", datetime(2099, 1, 1))  # naive: UTC
    return {"until": until.isoformat()}


def test_pause_rate_limit_from_a_task() -> None:
    hatchet.rate_limits.put("sig-rl-key", 5, RateLimitDuration.MINUTE)
    assert sig_rl_pauser.run() == {"until": datetime(2099, 1, 1, tzinfo=UTC).isoformat()}


@hatchet.task(name="sig_stats")
def sig_stats(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {}


def test_task_stats_count_waiting_task_runs() -> None:
    sig_stats.pause(queue_ttl=timedelta(minutes=5))
    try:
        refs = [sig_stats.run_no_wait() for _ in range(3)]
        stats = hatchet.metrics.get_task_stats()
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while (stats.get("sig_stats") is None or stats["sig_stats"].queued is None
               or (stats["sig_stats"].queued.total or 0) < 3):  # fmt: skip
            assert datetime.now(UTC) < deadline
            time.sleep(0.1)
            stats = hatchet.metrics.get_task_stats()
        assert stats["sig_stats"].queued is not None
        assert stats["sig_stats"].queued.oldest is not None
    finally:
        sig_stats.unpause()
    for ref in refs:
        ref.result()
