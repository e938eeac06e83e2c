"""A user's program as mypy --strict sees it (checked by tests/test_typing.py): inputs are
checked, results inferred from the task's return annotation, and each ``type: ignore`` marks
an error mypy must report (``warn_unused_ignores``: an ignore with no error fails)."""

from __future__ import annotations

from typing import Any, assert_type

from pydantic import BaseModel

from hatchet_celery import Context, EmptyModel, Hatchet
from hatchet_celery.features.runs import RunsClient
from hatchet_celery.workflow_run import TaskRunRef, WorkflowRunRef

hatchet = Hatchet()


class Order(BaseModel):
    amount: int


class Receipt(BaseModel):
    total: int


@hatchet.task(input_validator=Order)
def charge(input: Order, ctx: Context) -> Receipt:
    return Receipt(total=input.amount)


@hatchet.task()
async def ping(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"pong": "yes"}


checkout = hatchet.workflow(name="checkout", input_validator=Order)


@checkout.task()
def total(input: Order, ctx: Context) -> dict[str, int]:
    return {"total": input.amount}


def sync_calls() -> None:
    assert_type(charge.run(Order(amount=3)), Receipt)
    assert_type(charge.run_no_wait(Order(amount=3)), TaskRunRef[Order, Receipt])
    assert_type(charge.run(Order(amount=3), wait_for_result=False), TaskRunRef[Order, Receipt])
    assert_type(charge.run_no_wait(Order(amount=3)).result(), Receipt)
    assert_type(ping.run(), dict[str, str])
    assert_type(checkout.run(Order(amount=1)), dict[str, Any])
    assert_type(checkout.run_no_wait(Order(amount=1)), WorkflowRunRef)
    assert_type(hatchet.runs, RunsClient)
    charge.run(Receipt(total=1))  # type: ignore[call-overload]
    checkout.run_no_wait(EmptyModel())  # type: ignore[arg-type]


async def async_calls() -> None:
    assert_type(await charge.aio_run(Order(amount=3)), Receipt)
    assert_type(await ping.aio_run(), dict[str, str])
    assert_type(await checkout.aio_run(Order(amount=1)), dict[str, Any])
    ref = await charge.aio_run_no_wait(Order(amount=2))
    assert_type(await ref.aio_result(), Receipt)


@checkout.task(parents=[total])
async def notify(input: Order, ctx: Context) -> Receipt:
    return Receipt(total=ctx.task_output(total)["total"])


def task_outputs(ctx: Context) -> None:
    assert_type(ctx.task_output(notify), Receipt)
    assert_type(ctx.task_output(total), dict[str, int])
