"""Timer members: the Python codec and the Lua scripts that arm timers write the same text.

Each script that builds a member itself (rather than taking it from Python) is run once
on a namespace of its own, and the member it left in the timer set must be the one the
codec encodes; each kind also reads back what it wrote.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import fields
from typing import Any

import pytest

from hatchet_celery import ClientConfig, Hatchet
from hatchet_celery._timer_entries import (
    ENTRY_TYPES,
    ChildWatch,
    DecisionRecovery,
    EventRecovery,
    PauseExpiry,
    RetryDispatch,
    ScheduledFire,
    SleepDue,
    TimerEntry,
    Watchdog,
    decode,
)

RUN, TASK, WF = "run-1", "a task", "wf"


@pytest.fixture
def engine() -> Any:
    hatchet = Hatchet(config=ClientConfig(namespace=f"tentries{uuid.uuid4().hex[:6]}"))
    engine = hatchet._registry.engine()
    yield engine
    for key in engine.store.redis.scan_iter(f"{engine.keys.base}:*"):
        engine.store.redis.delete(key)


def _members(engine: Any) -> set[str]:
    return set(engine.store.redis.zrange(engine.keys.timers, 0, -1))


def _queued(engine: Any, **fields: Any) -> None:
    engine.store.redis.hset(
        engine.keys.run(RUN), mapping={"wf": WF, f"s:{TASK}": "QUEUED", f"a:{TASK}": 0, **fields}
    )


def test_each_kind_reads_back_what_it_writes() -> None:
    samples: list[TimerEntry] = [
        RetryDispatch(2, RUN, "t|with a bar"),
        Watchdog(0, RUN, TASK),
        ScheduledFire("s-1"),
        SleepDue(RUN, "t|x", "w1", "0", "1.5s"),
        DecisionRecovery(RUN, TASK),
        EventRecovery("e-1"),
        PauseExpiry(WF),
        ChildWatch(RUN, TASK),
    ]
    for t in ENTRY_TYPES:  # every other kind, with sample field values
        if not any(type(s) is t for s in samples):
            values = {f.name: 1 if f.name == "attempt" else f"v-{f.name}" for f in fields(t)}
            samples.append(t(**values))
    assert {type(s) for s in samples} == set(ENTRY_TYPES)
    for sample in samples:
        assert decode(sample.encode()) == sample
        assert sample.encode().startswith(sample.kind + "|")
    with pytest.raises(ValueError):
        decode("zz|1")
    with pytest.raises(ValueError):
        Watchdog.decode("d|0|run|task")


def test_timer_fire_turns_a_dispatch_into_the_watchdog(engine: Any) -> None:
    keys = engine.keys
    _queued(engine)
    member = RetryDispatch(0, RUN, TASK).member
    engine.store.redis.zadd(keys.timers, {member: 1})
    engine.store.script(
        "timer_fire", [keys.run(RUN), keys.timers], [member, "d", 0, RUN, TASK, 1, 100]
    )
    assert _members(engine) == {Watchdog(0, RUN, TASK).member}


def test_unpause_arms_a_dispatch(engine: Any) -> None:
    keys = engine.keys
    engine.store.redis.hset(
        keys.run(RUN), mapping={"wf": WF, f"s:{TASK}": "WAIT_PAUSED", f"a:{TASK}": 3}
    )
    engine.store.redis.zadd(keys.paused_tasks(WF), {f"{RUN}|{TASK}|3": 1})
    engine.store.script(
        "pause_set", [keys.paused, keys.paused_tasks(WF), keys.timers], [WF, 5, keys.run_prefix, ""]
    )
    assert _members(engine) == {RetryDispatch(3, RUN, TASK).member}


def test_pause_park_arms_the_expiry(engine: Any) -> None:
    keys = engine.keys
    _queued(engine)
    engine.store.redis.hset(keys.paused, WF, json.dumps({"ttl": 60}))
    engine.store.script(
        "pause_park",
        [keys.paused, keys.paused_tasks(WF), keys.timers],
        [WF, 5, keys.run_prefix, RUN, TASK, 0],
    )
    assert _members(engine) == {PauseExpiry(WF).member}


def test_sched_create_arms_the_scheduled_run(engine: Any) -> None:
    keys = engine.keys
    engine.store.script(
        "sched_create", [keys.scheduled("s-9"), keys.scheduled_index, keys.timers], ["s-9", 10, 5]
    )
    assert _members(engine) == {ScheduledFire("s-9").member}
    engine.store.script(
        "sched_delete", [keys.scheduled("s-9"), keys.scheduled_index, keys.timers], ["s-9"]
    )
    assert _members(engine) == set()


def test_event_push_arms_its_recovery(engine: Any) -> None:
    keys = engine.keys
    doc = json.dumps({"id": "e-9", "key": "k", "ts": 5})
    engine.store.script(
        "event_push",
        [
            keys.event_data,
            keys.events,
            keys.events_by_key("k"),
            keys.event_waiters("k"),
            keys.timers,
        ],
        ["e-9", doc, 5, 0, 10],
    )
    assert _members(engine) == {EventRecovery("e-9").member}


def test_cond_decide_arms_the_decision_recovery(engine: Any) -> None:
    keys = engine.keys
    _queued(engine)
    engine.store.script(
        "cond_decide",
        [keys.run(RUN), keys.timers, keys.leases],
        [RUN, TASK, 0, "CANCEL", 5, 10, 10],
    )
    assert _members(engine) == {DecisionRecovery(RUN, TASK).member}


def test_durable_evict_arms_the_child_watch(engine: Any) -> None:
    keys = engine.keys
    engine.store.redis.hset(keys.run(RUN), mapping={f"s:{TASK}": "RUNNING", f"c:{TASK}": "7"})
    engine.store.script(
        "durable_evict",
        [keys.run(RUN), keys.leases, keys.timers],
        [RUN, TASK, "running", "7", "ttl", json.dumps(["child"]), 10],
    )
    assert _members(engine) == {ChildWatch(RUN, TASK).member}
