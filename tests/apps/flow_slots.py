"""Tasks with a slot cost, served by a four-slot subprocess worker (tests/test_slots.py)."""

import time

from pydantic import BaseModel

from hatchet_celery import ClientConfig, Context, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="flow_slots"))


class Work(BaseModel):
    seconds: float = 0.4
    release_after: float | None = None


def _work(input: Work, ctx: Context) -> dict[str, float]:
    started = time.time()
    if input.release_after is not None:
        time.sleep(input.release_after)
        ctx.release_slot()
        time.sleep(input.seconds - input.release_after)
    else:
        time.sleep(input.seconds)
    return {"start": started, "end": time.time()}


heavy = hatchet.task(name="flow_slots_heavy", input_validator=Work, slot_cost=3)(_work)
light = hatchet.task(name="flow_slots_light", input_validator=Work, slot_cost=1)(_work)
