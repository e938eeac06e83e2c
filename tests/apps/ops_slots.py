"""A one-slot worker for the cancellation tests (its own namespace, so its own queue)."""

import time

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="ops_slots"))


@hatchet.task(name="ops_spin")
def ops_spin(input: EmptyModel, ctx: Context) -> dict[str, bool]:
    """Polls the cancellation flag, as a well-behaved long sync task does."""
    deadline = time.time() + 30
    while time.time() < deadline:
        if ctx.is_cancelled:
            return {"stopped": True}
        time.sleep(0.02)
    return {"stopped": False}


@hatchet.task(name="ops_quick")
def ops_quick(input: EmptyModel, ctx: Context) -> dict[str, float]:
    return {"started": time.time()}
