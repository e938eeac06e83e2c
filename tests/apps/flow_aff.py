"""Workflows served by labelled subprocess workers in tests/test_affinity.py."""

import time
from datetime import timedelta

from hatchet_celery import (
    ClientConfig,
    Context,
    DesiredWorkerLabel,
    EmptyModel,
    Hatchet,
    StickyStrategy,
    WorkerLabelComparator,
)

hatchet = Hatchet(config=ClientConfig(namespace="flow_aff"))


def _where(ctx: Context) -> dict[str, object]:
    return {"worker": ctx.worker_id, "labels": ctx.worker_labels}


@hatchet.task(
    name="flow_aff_small_b",
    desired_worker_labels=[
        DesiredWorkerLabel(
            key="memory", value=256, required=True, comparator=WorkerLabelComparator.LESS_THAN
        ),
        DesiredWorkerLabel(key="model", value="b", weight=10),
    ],
)
def small_b(input: EmptyModel, ctx: Context) -> dict[str, object]:
    return _where(ctx)


@hatchet.task(
    name="flow_aff_big",
    schedule_timeout=timedelta(seconds=3),
    desired_worker_labels=[
        DesiredWorkerLabel(
            key="memory",
            value=1024,
            required=True,
            comparator=WorkerLabelComparator.GREATER_THAN_OR_EQUAL,
        )
    ],
)
def big(input: EmptyModel, ctx: Context) -> dict[str, object]:
    return _where(ctx)


@hatchet.task(
    name="flow_aff_big_patient",
    desired_worker_labels=[
        DesiredWorkerLabel(
            key="memory",
            value=1024,
            required=True,
            comparator=WorkerLabelComparator.GREATER_THAN_OR_EQUAL,
        )
    ],
)
def big_patient(input: EmptyModel, ctx: Context) -> dict[str, object]:
    return _where(ctx)


runtime = hatchet.workflow(name="flow_aff_runtime")


@runtime.task()
def r1(input: EmptyModel, ctx: Context) -> dict[str, object]:
    return _where(ctx)


@runtime.task(parents=[r1])
def r2(input: EmptyModel, ctx: Context) -> dict[str, object]:
    return _where(ctx)


@runtime.task(parents=[r1])
def r3(input: EmptyModel, ctx: Context) -> dict[str, object]:
    return _where(ctx)


sticky = hatchet.workflow(name="flow_aff_sticky", sticky=StickyStrategy.SOFT)
sticky_child = hatchet.workflow(name="flow_aff_sticky_child", sticky=StickyStrategy.SOFT)


@sticky.task()
def s1a(input: EmptyModel, ctx: Context) -> dict[str, object]:
    time.sleep(0.05)
    return _where(ctx)


@sticky.task()
def s1b(input: EmptyModel, ctx: Context) -> dict[str, object]:
    return _where(ctx)


@sticky.task(parents=[s1a, s1b])
async def s2(input: EmptyModel, ctx: Context) -> dict[str, object]:
    child = await sticky_child.aio_run(sticky=True)
    return {**_where(ctx), "child": child["c1"]["worker"]}


@sticky_child.task()
def c1(input: EmptyModel, ctx: Context) -> dict[str, object]:
    return _where(ctx)


@hatchet.task(name="flow_aff_relabel")
def relabel(input: EmptyModel, ctx: Context) -> dict[str, object]:
    ctx.worker.upsert_labels({"model": "c"})
    return _where(ctx)


@hatchet.task(
    name="flow_aff_wants_c",
    desired_worker_labels=[DesiredWorkerLabel(key="model", value="c", required=True)],
)
def wants_c(input: EmptyModel, ctx: Context) -> dict[str, object]:
    return _where(ctx)
