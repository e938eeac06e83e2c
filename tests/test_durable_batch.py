"""Waking many durable sleepers at once: the timer pump hands each kind's due timers to
its batch handler in one call, and ``cond_satisfy`` removes every sleep timer of the wait
it resolves (no stale timer is left for a later pump pass)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from hatchet_celery import ClientConfig, DurableContext, EmptyModel, Hatchet, SleepCondition, or_
from hatchet_celery._runtime.timing.timers import DONE, Outcome, TimerPump, batched, table
from hatchet_celery._timer_entries import ChildWatch
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


def test_pump_hands_a_batched_kind_all_its_due_timers_in_one_call() -> None:
    engine = Hatchet(config=ClientConfig(namespace="dbatch-pump"))._registry.engine()
    calls: list[list[ChildWatch]] = []

    def handle(engine: Any, entries: list[ChildWatch], now: float) -> dict[ChildWatch, Outcome]:
        calls.append(list(entries))
        return dict.fromkeys(entries, DONE)

    entries = [ChildWatch(f"run-{i}", "t") for i in range(3)]
    pump = TimerPump(engine, table(batched(ChildWatch, handle)))  # no worker pumps here
    engine.store.redis.zadd(engine.keys.timers, {e.member: time.time() - 1 for e in entries})
    pump.run_once(time.time())
    assert len(calls) == 1, calls  # one call for the three, not one each
    assert sorted(calls[0], key=lambda e: e.run_id) == entries
    assert all(engine.store.redis.zscore(engine.keys.timers, e.member) is None for e in entries)


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
