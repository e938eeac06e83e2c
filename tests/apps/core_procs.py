"""Workflows served by subprocess workers in tests/test_core_processes.py.

Their own namespace keeps them away from the in-process session worker.
"""

import asyncio
import os
import time

from pydantic import BaseModel

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="core_procs"))


class Sleep(BaseModel):
    seconds: float = 0.3


fan = hatchet.workflow(name="ProcFan", input_validator=Sleep)


def _make(i: int) -> None:
    @fan.task(name=f"part{i}")
    def part(input: Sleep, ctx: Context) -> dict[str, object]:
        time.sleep(input.seconds)
        return {"pid": os.getpid(), "worker": ctx.worker_id}


for _i in range(8):
    _make(_i)


@hatchet.task(name="proc_slow")
def slow(input: Sleep, ctx: Context) -> dict[str, object]:
    time.sleep(input.seconds)
    return {"pid": os.getpid(), "retry_count": ctx.retry_count}


@hatchet.task(name="proc_async_wait")
async def async_wait(input: Sleep, ctx: Context) -> dict[str, float]:
    started = time.time()
    await asyncio.sleep(input.seconds)
    loop = id(asyncio.get_running_loop())
    return {"started": started, "ended": time.time(), "pid": os.getpid(), "loop": loop}


@hatchet.task(name="proc_noop")
def noop(input: EmptyModel, ctx: Context) -> dict[str, int]:
    return {"pid": os.getpid()}
