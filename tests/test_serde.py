"""``hatchet_celery.serde`` (outputs stored and read back in Hatchet's serialization
context) and ``hatchet_celery.runnables.contextvars`` (spawn indices, context values)."""

from __future__ import annotations

import base64
import zlib
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, PlainSerializer, ValidationInfo, model_validator

from hatchet_celery import Context, DurableContext, EmptyModel
from hatchet_celery.runnables.contextvars import (
    ctx_action_key,
    ctx_step_run_id,
    ctx_workflow_run_id,
    workflow_spawn_indices,
)
from hatchet_celery.serde import HATCHET_PYDANTIC_SENTINEL, is_in_hatchet_serialization_context
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


def _pack(value: str, info: Any) -> str:
    if is_in_hatchet_serialization_context(info.context):
        return base64.b64encode(zlib.compress(value.encode())).decode()
    return value


class Packed(BaseModel):
    secret: Annotated[str, PlainSerializer(_pack, str)]

    @model_validator(mode="before")
    @classmethod
    def _unpack(cls, data: Any, info: ValidationInfo) -> Any:
        if is_in_hatchet_serialization_context(info.context):
            data = dict(data, secret=zlib.decompress(base64.b64decode(data["secret"])).decode())
        return data


serde_wf = hatchet.workflow(name="serde_wf")


@serde_wf.task()
def serde_make(input: EmptyModel, ctx: Context) -> Packed:
    return Packed(secret="the plain text")


@serde_wf.task(parents=[serde_make])
def serde_read(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"read": ctx.task_output(serde_make).secret}


@hatchet.task(name="serde_standalone")
def serde_standalone(input: EmptyModel, ctx: Context) -> Packed:
    return Packed(secret="typed result")


@hatchet.task(name="serde_vars")
def serde_vars(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return {
        "run": ctx_workflow_run_id.get() == ctx.workflow_run_id,
        "task_run": ctx_step_run_id.get() == ctx.task_run_id,
        "key": ctx_action_key.get() == f"{ctx.task_run_id}/{ctx.retry_count}",
    }


@hatchet.task(name="serde_child_a")
def serde_child_a(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"child": "a"}


@hatchet.task(name="serde_child_b")
def serde_child_b(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"child": "b"}


class Scenario(BaseModel):
    rewind: int


@hatchet.durable_task(name="serde_spawner", input_validator=Scenario)
async def serde_spawner(input: Scenario, ctx: DurableContext) -> dict[str, Any]:
    first = await serde_child_a.aio_run()
    await serde_child_b.aio_run()
    key = ctx_action_key.get()
    assert key is not None
    workflow_spawn_indices[key] -= input.rewind
    return {"first": first, "again": await serde_child_a.aio_run()}


def test_outputs_are_stored_in_the_serialization_context() -> None:
    result = serde_wf.run()
    assert result["serde_make"]["secret"] != "the plain text"  # the stored form
    assert result["serde_read"] == {"read": "the plain text"}  # read back by ctx.task_output


def test_a_standalone_result_is_read_back_in_the_context() -> None:
    assert serde_standalone.run().secret == "typed result"


def test_sentinel() -> None:
    assert is_in_hatchet_serialization_context(HATCHET_PYDANTIC_SENTINEL)
    assert not is_in_hatchet_serialization_context(None)
    assert not is_in_hatchet_serialization_context({"other": True})


def test_context_variables_follow_the_running_task() -> None:
    assert serde_vars.run() == {"run": True, "task_run": True, "key": True}
    assert ctx_action_key.get() is None  # outside a task
    with pytest.raises(TypeError, match="read-only"):
        ctx_action_key.set("x")


def test_respawn_at_its_own_index_returns_the_same_child() -> None:
    result = serde_spawner.run(Scenario(rewind=2))
    assert result["first"] == result["again"] == {"child": "a"}


def test_respawn_at_another_childs_index_is_a_non_determinism_error() -> None:
    with pytest.raises(Exception, match="non-determinism") as info:
        serde_spawner.run(Scenario(rewind=1))
    assert "serde_child_b" in str(info.value)
