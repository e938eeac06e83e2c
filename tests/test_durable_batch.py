"""Waking many durable sleepers at once: the timer pump hands each kind's due timers to
its batch handler in one call, and ``cond_satisfy`` removes every sleep timer of the wait
it resolves (no stale timer is left for a later pump pass)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from hatchet_celery import DurableContext, EmptyModel, SleepCondition, or_
from hatchet_celery._runtime.worker.services import TIMER_BATCH_HANDLERS, WorkerServices
from tests.apps import hatchet

BURST = 20


@hatchet.durable_task(name="dbatch-nap", execution_timeout=timedelta(seconds=30))
async def dbatch_nap(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    woke = await ctx.aio_wait_for(
        "nap",
        or_(
            SleepCondition(timedelta(milliseconds=300)),
            SleepCondition(timedelta(seconds=120)),
        ),
    )
    return {"woke": woke}


def test_pump_hands_a_kind_all_its_due_timers_in_one_call() -> None:
    engine = hatchet._registry.engine()
    kind = f"tb{uuid.uuid4().hex[:8]}"
    calls: list[list[str]] = []
    seen = threading.Event()

    def handle(engine: Any, members: list[str], now: float) -> None:
        calls.append(list(members))
        engine.store.redis.zrem(engine.keys.timers, *members)
        seen.set()

    members = [f"{kind}|{i}" for i in range(3)]
    TIMER_BATCH_HANDLERS[kind] = handle
    try:
        engine.store.redis.zadd(engine.keys.timers, {m: time.time() - 1 for m in members})
        deadline = time.time() + 10
        while not seen.is_set() and time.time() < deadline:
            WorkerServices.pump_once(engine, time.time())
            seen.wait(0.05)
        assert len(calls) == 1, calls  # one call for the three, not one each
        assert sorted(calls[0]) == members
        assert all(engine.store.redis.zscore(engine.keys.timers, m) is None for m in members)
    finally:
        del TIMER_BATCH_HANDLERS[kind]


def test_sleep_burst_wakes_every_task_and_leaves_no_sleep_timer(worker: Any) -> None:
    engine = hatchet._registry.engine()
    items = [dbatch_nap.create_bulk_run_item() for _ in range(BURST)]
    started = time.time()
    refs = dbatch_nap.run_many_no_wait(items)
    outputs = [ref.result() for ref in refs]
    assert time.time() - started < 20
    for out in outputs:
        met = out["woke"]["CREATE"]
        assert len(met) == 1  # the short sleep met the wait, the long one did not
    run_ids = {ref.workflow_run_id for ref in refs}
    left = [
        m
        for m in engine.store.redis.zrange(engine.keys.timers, 0, -1)
        if m.startswith("wsl|") and m.split("|")[1] in run_ids
    ]
    assert left == []  # the 120 s timers went with the resolution, inside cond_satisfy
