"""``Depends``: sync, async, generator and context-manager dependencies, nested, injected
into sync, async and durable tasks (standalone and in a DAG), and ``mock_run``."""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Generator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any, TypeAlias

import pytest
from pydantic import BaseModel

from hatchet_celery import Context, Depends, DurableContext, EmptyModel
from hatchet_celery.exceptions import InvalidDependencyError
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")

EVENTS: list[str] = []
_lock = threading.Lock()


def _event(what: str) -> None:
    with _lock:
        EVENTS.append(what)


class Deps(BaseModel):
    sync: str
    async_: str
    sync_cm: str
    async_cm: str
    nested: str
    generator: str


def sync_dep(input: EmptyModel, ctx: Context) -> str:
    return f"sync:{ctx.task_name}"


async def async_dep(input: EmptyModel, ctx: Context) -> str:
    return "async"


@contextmanager
def sync_cm_dep(input: EmptyModel, ctx: Context) -> Generator[str, None, None]:
    _event(f"enter sync_cm {ctx.workflow_run_id}")
    try:
        yield "sync_cm"
    finally:
        _event(f"exit sync_cm {ctx.workflow_run_id}")


@asynccontextmanager
async def async_cm_dep(
    input: EmptyModel, ctx: Context, inner: Annotated[str, Depends(async_dep)]
) -> AsyncGenerator[str, None]:
    _event(f"enter async_cm {ctx.workflow_run_id}")
    try:
        yield f"async_cm({inner})"
    finally:
        _event(f"exit async_cm {ctx.workflow_run_id}")


def nested_dep(input: EmptyModel, ctx: Context, base: Annotated[str, Depends(sync_cm_dep)]) -> str:
    return f"nested({base})"


def generator_dep(input: EmptyModel, ctx: Context) -> Generator[str, None, None]:
    yield "generator"
    _event(f"exit generator {ctx.workflow_run_id}")


SyncDep: TypeAlias = Annotated[str, Depends(sync_dep)]


def _out(sync: str, async_: str, sync_cm: str, async_cm: str, nested: str, gen: str) -> Deps:
    return Deps(
        sync=sync, async_=async_, sync_cm=sync_cm, async_cm=async_cm, nested=nested, generator=gen
    )


@hatchet.task(name="ops_di_sync")
def ops_di_sync(
    input: EmptyModel,
    ctx: Context,
    sync: SyncDep,
    async_: Annotated[str, Depends(async_dep)],
    sync_cm: Annotated[str, Depends(sync_cm_dep)],
    async_cm: Annotated[str, Depends(async_cm_dep)],
    nested: Annotated[str, Depends(nested_dep)],
    gen: Annotated[str, Depends(generator_dep)],
) -> Deps:
    _event(f"body {ctx.workflow_run_id}")
    return _out(sync, async_, sync_cm, async_cm, nested, gen)


@hatchet.task(name="ops_di_async")
async def ops_di_async(
    input: EmptyModel,
    ctx: Context,
    sync: SyncDep,
    async_: Annotated[str, Depends(async_dep)],
    sync_cm: Annotated[str, Depends(sync_cm_dep)],
    async_cm: Annotated[str, Depends(async_cm_dep)],
    nested: Annotated[str, Depends(nested_dep)],
    gen: Annotated[str, Depends(generator_dep)],
) -> Deps:
    _event(f"body {ctx.workflow_run_id}")
    return _out(sync, async_, sync_cm, async_cm, nested, gen)


@hatchet.durable_task(name="ops_di_durable")
async def ops_di_durable(
    input: EmptyModel,
    ctx: DurableContext,
    sync: SyncDep,
    async_: Annotated[str, Depends(async_dep)],
    sync_cm: Annotated[str, Depends(sync_cm_dep)],
    async_cm: Annotated[str, Depends(async_cm_dep)],
    nested: Annotated[str, Depends(nested_dep)],
    gen: Annotated[str, Depends(generator_dep)],
) -> Deps:
    return _out(sync, async_, sync_cm, async_cm, nested, gen)


ops_di_dag = hatchet.workflow(name="ops_di_dag")


@ops_di_dag.task()
def ops_di_root(input: EmptyModel, ctx: Context, sync: SyncDep) -> dict[str, str]:
    return {"sync": sync}


@ops_di_dag.task(parents=[ops_di_root])
async def ops_di_leaf(
    input: EmptyModel, ctx: Context, nested: Annotated[str, Depends(nested_dep)]
) -> dict[str, str]:
    return {"nested": nested, "parent": ctx.task_output(ops_di_root)["sync"]}


@hatchet.task(name="ops_di_failing")
def ops_di_failing(
    input: EmptyModel, ctx: Context, cm: Annotated[str, Depends(sync_cm_dep)]
) -> None:
    raise RuntimeError("the body fails; the dependency still exits")


def _expected(task: str) -> Deps:
    return Deps(
        sync=f"sync:{task}",
        async_="async",
        sync_cm="sync_cm",
        async_cm="async_cm(async)",
        nested="nested(sync_cm)",
        generator="generator",
    )


@pytest.mark.parametrize("task", [ops_di_sync, ops_di_async, ops_di_durable])
async def test_every_kind_of_dependency_reaches_every_kind_of_task(task: Any) -> None:
    ref = await task.aio_run(wait_for_result=False)
    result = await ref.aio_result()
    assert result == _expected(task.name.split("_", 1)[1])


def test_context_managers_exit_in_reverse_order_after_the_body() -> None:
    ref = ops_di_sync.run(wait_for_result=False)
    ref.result()
    run = ref.workflow_run_id
    mine = [e.rsplit(" ", 1)[0] for e in EVENTS if e.endswith(run)]
    # resolved in parameter order (nested_dep enters its own sync_cm), exited in reverse
    assert mine == [
        "enter sync_cm",
        "enter async_cm",
        "enter sync_cm",
        "body",
        "exit generator",
        "exit sync_cm",
        "exit async_cm",
        "exit sync_cm",
    ]


def test_a_dependency_exits_even_when_the_task_fails() -> None:
    ref = ops_di_failing.run(wait_for_result=False)
    with pytest.raises(Exception, match="the body fails"):
        ref.result()
    assert f"exit sync_cm {ref.workflow_run_id}" in EVENTS


def test_dependencies_in_a_dag() -> None:
    result = ops_di_dag.run()
    assert result["ops_di_leaf"] == {"nested": "nested(sync_cm)", "parent": "sync:ops_di_root"}


def test_mock_run_takes_resolved_dependencies_or_resolves_them() -> None:
    given = {
        "sync": "s",
        "async_": "a",
        "sync_cm": "c",
        "async_cm": "ac",
        "nested": "n",
        "gen": "g",
    }
    out = ops_di_sync.mock_run(dependencies=given)
    assert out == Deps(sync="s", async_="a", sync_cm="c", async_cm="ac", nested="n", generator="g")
    resolved = ops_di_sync.mock_run()
    assert resolved == _expected("ops_di_sync")


async def test_aio_mock_run_resolves_dependencies() -> None:
    assert await ops_di_async.aio_mock_run() == _expected("ops_di_async")


def cycle_a(input: EmptyModel, ctx: Context, b: Annotated[str, Depends(cycle_b)]) -> str:
    return b


def cycle_b(input: EmptyModel, ctx: Context, a: Annotated[str, Depends(cycle_a)]) -> str:
    return a


@hatchet.task(name="ops_di_cycle")
def ops_di_cycle(input: EmptyModel, ctx: Context, a: Annotated[str, Depends(cycle_a)]) -> None:
    return None


def test_invalid_dependencies_are_errors() -> None:
    with pytest.raises(InvalidDependencyError):
        Depends(lambda input: input)
    with pytest.raises(InvalidDependencyError, match="cycle"):
        ops_di_cycle.mock_run()
