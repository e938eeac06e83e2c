"""Rate limits: Hatchet's buckets (full at the start of a window, refilled per window),
checked on the script itself with the time passed in; dynamic keys and units, units above
the limit, a key not put yet, pause, listing, and a rate limit with a concurrency key."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import (
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    Context,
)
from hatchet_celery._runtime.flow import common as flow
from hatchet_celery._runtime.flow import ratelimits
from hatchet_celery.exceptions import RateLimitExceededError
from hatchet_celery.rate_limit import RateLimit, RateLimitDuration
from hatchet_celery.testing import wait_for_task_status
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


class Keyed(BaseModel):
    key: str
    group: str = "g"
    units: int = 1
    limit: int = 5


def _started(input: Keyed, ctx: Context) -> dict[str, float]:
    return {"start": time.time()}


paced = hatchet.task(
    name="flow_rl_paced",
    input_validator=Keyed,
    rate_limits=[
        RateLimit(dynamic_key="input.key", units=1, limit=10, duration=RateLimitDuration.SECOND)
    ],
)(_started)

per_minute = hatchet.task(
    name="flow_rl_per_minute",
    input_validator=Keyed,
    rate_limits=[
        RateLimit(dynamic_key="input.key", units=3, limit=10, duration=RateLimitDuration.MINUTE)
    ],
)(_started)

dynamic_limited = hatchet.task(
    name="flow_rl_dynamic",
    input_validator=Keyed,
    rate_limits=[
        RateLimit(
            dynamic_key='"rl:" + input.key + ":" + input.group',
            units="input.units",
            limit="input.limit",
            duration=RateLimitDuration.SECOND,
        )
    ],
)(_started)

put_limited = hatchet.task(
    name="flow_rl_put",
    input_validator=Keyed,
    rate_limits=[RateLimit(static_key="flow-rl-put-key", units=2)],
)(_started)

both = hatchet.task(
    name="flow_rl_and_concurrency",
    input_validator=Keyed,
    rate_limits=[
        RateLimit(dynamic_key="input.key", units=1, limit=5, duration=RateLimitDuration.SECOND)
    ],
    concurrency=ConcurrencyExpression(
        expression="input.key",
        max_runs=1,
        limit_strategy=ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN,
    ),
)(_started)


class Bucket:
    """Calls ``rl_take`` as the gate does, on synthetic task runs, with the time passed in."""

    def __init__(self) -> None:
        self.engine = hatchet._registry.engine()
        self.prefix = f"bk-{uuid.uuid4().hex[:8]}"

    def take(self, now: float, *buckets: tuple[str, int, int, float]) -> float | str:
        """Seconds until the task run may start (0: at once), or the script's verdict."""
        keys, redis = self.engine.keys, self.engine.store.redis
        run_id = f"{self.prefix}-{uuid.uuid4().hex[:8]}"
        redis.hset(keys.run(run_id), mapping={"s:t": "QUEUED", "a:t": "0", "wf": "w"})
        tail: list[Any] = []
        for key, units, limit, window in buckets:
            tail += [f"{self.prefix}:{key}", units, limit, window]
        res = self.engine.store.script(
            "rl_take",
            [
                keys.run(run_id),
                keys.timers,
                keys.rate_limits,
                *(keys.rate_limit(f"{self.prefix}:{b[0]}") for b in buckets),
            ],
            [
                run_id,
                "t",
                0,
                flow.WAIT_RATE_LIMIT,
                now,
                now + 60,
                f"rl|0|{run_id}|t",
                f"rq|0|{run_id}|t",
                now + 1,
                len(buckets),
                *tail,
            ],
        )
        redis.zrem(keys.timers, f"rl|0|{run_id}|t", f"rq|0|{run_id}|t")
        redis.zrem(keys.timers, f"w|0|{run_id}|t")
        redis.delete(keys.run(run_id))
        if res[0] == "admit":
            return 0.0
        if res[0] == "wait":
            return round(float(res[1]), 3)
        return str(res[0])

    def row(self, key: str, now: float) -> tuple[int, float]:
        bucket = self.engine.store.redis.hgetall(
            self.engine.keys.rate_limit(f"{self.prefix}:{key}")
        )
        return ratelimits.units_left(bucket, now)


def test_a_bucket_is_full_at_the_start_of_a_window_and_refilled_per_window() -> None:
    b, t0 = Bucket(), 1_000_000.0
    per_minute = ("k", 3, 10, 60)  # 10 units a minute, 3 units a run
    # full at once: three runs start together, the fourth waits for the next window
    assert [b.take(t0 + i, per_minute) for i in range(3)] == [0.0, 0.0, 0.0]
    assert b.row("k", t0 + 3) == (1, t0)
    assert b.take(t0 + 10, per_minute) == 50.0  # the window began at t0: refill at t0 + 60
    # the next window holds three such runs; the seventh goes one window further
    assert [b.take(t0 + 20, per_minute) for _ in range(2)] == [40.0, 40.0]
    assert b.take(t0 + 30, per_minute) == 90.0
    # a run that fits in what is left of the current window starts now (as Hatchet's),
    # and the next one takes what the reservations left in a later window
    assert b.take(t0 + 40, ("k", 1, 10, 60)) == 0.0
    assert b.take(t0 + 41, ("k", 1, 10, 60)) == 19.0
    assert b.take(t0 + 42, ("k", 1, 10, 60)) == 78.0
    # windows follow each other from the bucket's start, less what runs reserved there
    assert b.row("k", t0 + 61) == (0, t0 + 60)
    assert b.row("k", t0 + 121) == (6, t0 + 120)
    assert b.take(t0 + 121, ("k", 7, 10, 60)) == 59.0
    # an idle bucket is full again at the start of the next window
    assert b.row("k", t0 + 600) == (10, t0 + 600)
    assert [b.take(t0 + 600.5, per_minute) for _ in range(4)] == [0.0, 0.0, 0.0, 59.5]


def test_a_run_naming_several_buckets_waits_for_the_first_window_all_of_them_have() -> None:
    b, t0 = Bucket(), 2_000_000.0
    assert b.take(t0, ("sec", 2, 2, 1)) == 0.0  # "sec" spent until t0 + 1
    assert b.take(t0 + 0.2, ("min", 5, 10, 60)) == 0.0  # "min" has 5 left until t0 + 60.2
    assert b.take(t0 + 0.5, ("sec", 1, 2, 1), ("min", 5, 10, 60)) == 0.5
    # "sec" could give it at t0 + 1, "min" only at t0 + 60.2: the run takes both then
    assert b.take(t0 + 0.6, ("sec", 1, 2, 1), ("min", 5, 10, 60)) == 59.6
    assert b.row("sec", t0 + 1.5) == (1, t0 + 1)  # one unit of "sec" went to the first
    # one key named with other units is its own bucket's units: above the limit never fits
    assert b.take(t0 + 2, ("sec", 3, 2, 1)) == "over"


def test_a_pause_and_a_lower_limit_hold_a_bucket() -> None:
    b, t0 = Bucket(), 3_000_000.0
    engine = b.engine
    name = f"{b.prefix}:static"
    engine.store.script(
        "rl_put", [engine.keys.rate_limit(name), engine.keys.rate_limits], [name, t0, 4, 1, ""]
    )
    assert b.take(t0 + 0.1, ("static", 1, -1, 1)) == 0.0
    engine.store.script(  # a lower limit caps what is left now
        "rl_put", [engine.keys.rate_limit(name), engine.keys.rate_limits], [name, t0, 2, 1, ""]
    )
    assert b.row("static", t0 + 0.2) == (2, t0)
    assert b.take(t0 + 0.2, ("static", 2, -1, 1)) == 0.0
    assert b.take(t0 + 0.3, ("static", 1, -1, 1)) == 0.7
    engine.store.script(
        "rl_put",
        [engine.keys.rate_limit(name), engine.keys.rate_limits],
        [name, t0, "", "", t0 + 5.5],
    )
    assert b.take(t0 + 3, ("static", 1, -1, 1)) == 2.5  # held until the pause ends
    assert b.take(t0 + 3, ("static", 3, -1, 1)) == "over"


def _statuses(run_ids: list[str], task: str) -> list[str]:
    client = hatchet._registry.client()
    out = []
    for run_id in run_ids:
        state = client.fetch(run_id)
        out.append(str(state.tasks[task].status) if state and task in state.tasks else "")
    return out


def test_ten_a_minute_with_units_three_starts_three_runs_then_waits_for_the_window() -> None:
    key = f"min-{uuid.uuid4()}"
    refs = per_minute.run_many_no_wait(
        [per_minute.create_bulk_run_item(Keyed(key=key)) for _ in range(4)]
    )
    run_ids = [r.workflow_run_id for r in refs]
    deadline = time.monotonic() + 60
    while sorted(_statuses(run_ids, "flow_rl_per_minute")) != [
        *["COMPLETED"] * 3,
        "WAIT_RATE_LIMIT",
    ]:
        assert time.monotonic() < deadline, _statuses(run_ids, "flow_rl_per_minute")
        time.sleep(0.05)
    engine = hatchet._registry.engine()
    origin = int(engine.store.redis.hget(engine.keys.rate_limit(key), "origin")) / 1000
    waiting = run_ids[_statuses(run_ids, "flow_rl_per_minute").index("WAIT_RATE_LIMIT")]
    due = engine.store.redis.zscore(engine.keys.timers, f"rl|0|{waiting}|flow_rl_per_minute")
    assert due == pytest.approx(origin + 60, abs=0.002)  # the next window's refill
    hatchet.runs.cancel(waiting)


def test_dynamic_keys_units_and_limits_from_cel_fill_each_key_apart() -> None:
    key = f"dyn-{uuid.uuid4()}"
    items = [
        dynamic_limited.create_bulk_run_item(Keyed(key=key, group=g, units=5, limit=10))
        for g in ("a", "b")
        for _ in range(4)
    ]
    results = dynamic_limited.run_many(items)
    by_group: dict[str, list[float]] = defaultdict(list)
    for item, out in zip(items, results, strict=True):
        by_group[Keyed.model_validate_json(item.input or "{}").group].append(out["start"])
    engine = hatchet._registry.engine()
    origins = {
        g: int(engine.store.redis.hget(engine.keys.rate_limit(f"rl:{key}:{g}"), "origin")) / 1000
        for g in by_group
    }
    for group, starts in by_group.items():
        starts.sort()
        # 5 units of a 10/s bucket: two runs a window; the others waited for the next one
        assert starts[2] >= origins[group] + 1.0
        assert starts[3] >= origins[group] + 1.0


def test_units_above_the_limit_are_refused_at_trigger_time() -> None:
    key = f"over-{uuid.uuid4()}"
    with pytest.raises(RateLimitExceededError, match="needs 11 units"):
        dynamic_limited.run(Keyed(key=key, units=11, limit=10), wait_for_result=False)


def test_a_static_key_not_yet_put_waits_until_it_is_put() -> None:
    ref = put_limited.run(Keyed(key="x"), wait_for_result=False)
    wait_for_task_status(hatchet, ref.workflow_run_id, "flow_rl_put", "WAIT_RATE_LIMIT")
    hatchet.rate_limits.put("flow-rl-put-key", 4, RateLimitDuration.SECOND)
    put_at = time.time()
    out = ref.result()  # it is tried again every second: it starts once the key exists
    assert out["start"] >= put_at
    with pytest.raises(RateLimitExceededError, match="limit is 1"):
        hatchet.rate_limits.put("flow-rl-put-key", 1, RateLimitDuration.SECOND)
        put_limited.run(Keyed(key="x"), wait_for_result=False)


def test_pause_holds_runs_until_it_ends_and_list_shows_buckets() -> None:
    key = f"pause-{uuid.uuid4()}"
    paced.run(Keyed(key=key))  # creates the dynamic bucket
    until = datetime.now(UTC) + timedelta(seconds=1.5)
    assert hatchet.rate_limits.pause(key, until) >= until - timedelta(milliseconds=1)
    # an earlier time never shortens the pause
    assert hatchet.rate_limits.pause(key, until - timedelta(seconds=1)) >= until - timedelta(
        milliseconds=1
    )
    out = paced.run(Keyed(key=key))
    assert out["start"] >= until.timestamp() - 0.01
    rows = hatchet.rate_limits.list(search=key).rows or []
    assert [(r.key, r.limit_value, r.window) for r in rows] == [(key, 10, "SECOND")]
    with pytest.raises(ValueError, match="does not exist"):
        hatchet.rate_limits.pause(f"nothing-{key}", until)


def test_rate_limit_and_concurrency_on_one_task_never_deadlock() -> None:
    key = f"both-{uuid.uuid4()}"
    results = both.run_many([both.create_bulk_run_item(Keyed(key=key)) for _ in range(7)])
    starts = sorted(r["start"] for r in results)
    assert len(starts) == 7
    engine = hatchet._registry.engine()
    origin = int(engine.store.redis.hget(engine.keys.rate_limit(key), "origin")) / 1000
    assert starts[5] >= origin + 1.0  # 5 a second: the sixth waited for the next window
