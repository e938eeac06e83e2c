"""A namespace of its own for the testing kit's ``join``: nothing else runs in it."""

from __future__ import annotations

import time

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="kit_join"))


@hatchet.task(name="kit_join_step")
def step(input: EmptyModel, ctx: Context) -> dict[str, float]:
    time.sleep(0.2)
    return {"at": time.time()}
