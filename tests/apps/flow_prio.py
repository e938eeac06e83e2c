"""A workflow served by a one-slot subprocess worker in tests/test_priority.py."""

import time

from pydantic import BaseModel

from hatchet_celery import ClientConfig, Context, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="flow_prio"))


class Sleep(BaseModel):
    seconds: float = 0.05


@hatchet.task(name="flow_prio_task", input_validator=Sleep)
def prio_task(input: Sleep, ctx: Context) -> dict[str, float]:
    started = time.time()
    time.sleep(input.seconds)
    return {"start": started, "priority": float(ctx.priority or 0)}


prio_dag = hatchet.workflow(name="flow_prio_dag", input_validator=Sleep)


@prio_dag.task()
def head(input: Sleep, ctx: Context) -> dict[str, float]:
    return {"start": time.time()}


@prio_dag.task(parents=[head])
def tail(input: Sleep, ctx: Context) -> dict[str, float]:
    started = time.time()
    time.sleep(input.seconds)
    return {"start": started, "priority": float(ctx.priority or 0)}
