"""Concurrency keys: caps per key at task and workflow level, every strategy's outcome,
several keys at once, dynamic max_runs, and capacity coming back from a killed worker."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import (
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    Context,
    FailedTaskRunExceptionGroup,
)
from hatchet_celery.testing import WorkerProcess
from hatchet_celery.testing.waiting import wait_for_task_status
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")

S = ConcurrencyLimitStrategy


class Job(BaseModel):
    group: str = "A"
    seconds: float = 0.2
    limit: int = 2
    fail: bool = False


def _interval(seconds: float) -> dict[str, float]:
    started = time.time()
    time.sleep(seconds)
    return {"start": started, "end": time.time()}


async def _ainterval(seconds: float) -> dict[str, float]:
    started = time.time()
    await asyncio.sleep(seconds)
    return {"start": started, "end": time.time()}


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Most intervals open at one instant (an end at t frees before a start at t)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    open_now = peak = 0
    for _, delta in events:
        open_now += delta
        peak = max(peak, open_now)
    return peak


# --- GROUP_ROUND_ROBIN, task level ----------------------------------------------------------
@hatchet.task(
    name="flow_conc_rr",
    input_validator=Job,
    concurrency=ConcurrencyExpression(
        expression="input.group", max_runs=2, limit_strategy=S.GROUP_ROUND_ROBIN
    ),
)
def conc_rr(input: Job, ctx: Context) -> dict[str, float]:
    return _interval(input.seconds)


def test_round_robin_caps_each_key_and_keys_progress_independently() -> None:
    items = [conc_rr.create_bulk_run_item(Job(group="A", seconds=0.2)) for _ in range(8)]
    items += [conc_rr.create_bulk_run_item(Job(group="B", seconds=0.2)) for _ in range(2)]
    started = time.time()
    results = conc_rr.run_many(items)
    by_group: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for item, out in zip(items, results, strict=True):
        group = Job.model_validate_json(item.input or "{}").group
        by_group[group].append((out["start"], out["end"]))
    assert _max_overlap(by_group["A"]) == 2  # capped, and the cap is used
    assert _max_overlap(by_group["B"]) == 2
    # B's two runs did not wait behind A's backlog of eight
    assert max(e for _, e in by_group["B"]) - started < 1.5
    # A's eight runs went two at a time: four rounds of 0.2 s
    a_span = max(e for _, e in by_group["A"]) - min(s for s, _ in by_group["A"])
    assert a_span >= 0.75
    # once everything is released, the gate keeps nothing per key (keys may be per user)
    from hatchet_celery._runtime.flow.concurrency import task_spec

    spec = task_spec(conc_rr.tasks[0])
    assert spec is not None
    state = hatchet._registry.engine().keys.conc_state(spec.gate)
    redis = hatchet._registry.engine().store.redis
    deadline = time.time() + 5
    while set(redis.hkeys(state)) - {"seq"} and time.time() < deadline:
        time.sleep(0.05)
    assert set(redis.hkeys(state)) == {"seq"}


@hatchet.task(
    name="flow_conc_retry",
    input_validator=Job,
    retries=1,
    concurrency=ConcurrencyExpression(
        expression="input.group", max_runs=1, limit_strategy=S.GROUP_ROUND_ROBIN
    ),
)
def conc_retry(input: Job, ctx: Context) -> dict[str, float]:
    if input.fail or ctx.retry_count == 0:
        _interval(0.1)
        raise RuntimeError("first attempt fails")
    return _interval(0.1)


def test_retries_keep_the_slot_and_a_final_failure_frees_it() -> None:
    refs = [
        conc_retry.run(Job(group="R", fail=True), wait_for_result=False),
        conc_retry.run(Job(group="R"), wait_for_result=False),
    ]
    with pytest.raises(FailedTaskRunExceptionGroup):
        refs[0].result()
    assert set(refs[1].result()) == {"start", "end"}  # ran once the failed run let go


# --- workflow level, several keys, int shorthand, dynamic max_runs ----------------------------
class Person(BaseModel):
    name: str
    digit: str
    seconds: float = 0.3


multi = hatchet.workflow(
    name="flow_conc_multi",
    input_validator=Person,
    concurrency=[
        ConcurrencyExpression(
            expression="input.digit", max_runs=2, limit_strategy=S.GROUP_ROUND_ROBIN
        ),
        ConcurrencyExpression(
            expression="input.name", max_runs=1, limit_strategy=S.GROUP_ROUND_ROBIN
        ),
    ],
)


@multi.task()
async def first(input: Person, ctx: Context) -> dict[str, float]:
    return await _ainterval(input.seconds)


@multi.task()
async def second(input: Person, ctx: Context) -> dict[str, float]:
    return await _ainterval(input.seconds)


@multi.task(parents=[first, second])
async def third(input: Person, ctx: Context) -> dict[str, float]:
    return await _ainterval(0.05)


def test_workflow_level_with_two_keys_holds_whole_runs_under_every_key() -> None:
    people = [Person(name=n, digit=d) for n in ("ann", "bob", "cy") for d in ("1", "2")] * 2
    results = multi.run_many([multi.create_bulk_run_item(p) for p in people])
    spans = [(min(r["first"]["start"], r["second"]["start"]), r["third"]["end"]) for r in results]
    by_digit: dict[str, list[tuple[float, float]]] = defaultdict(list)
    by_name: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for p, span in zip(people, spans, strict=True):
        by_digit[p.digit].append(span)
        by_name[p.name].append(span)
    assert max(_max_overlap(v) for v in by_name.values()) == 1  # whole runs, one per name
    assert max(_max_overlap(v) for v in by_digit.values()) <= 2
    # both roots of a run start together: the run, not each task, holds the slot
    assert all(abs(r["first"]["start"] - r["second"]["start"]) < 0.25 for r in results)


@hatchet.task(name="flow_conc_int", input_validator=Job, concurrency=1)
def conc_int(input: Job, ctx: Context) -> dict[str, float]:
    return _interval(input.seconds)


def test_int_shorthand_is_one_constant_key() -> None:
    results = conc_int.run_many(
        [conc_int.create_bulk_run_item(Job(group=g, seconds=0.1)) for g in "abcd"]
    )
    assert _max_overlap([(r["start"], r["end"]) for r in results]) == 1


@hatchet.task(
    name="flow_conc_dynamic",
    input_validator=Job,
    concurrency=ConcurrencyExpression(
        expression="input.group", max_runs="input.limit", limit_strategy=S.GROUP_ROUND_ROBIN
    ),
)
def conc_dynamic(input: Job, ctx: Context) -> dict[str, float]:
    return _interval(input.seconds)


def test_max_runs_from_cel() -> None:
    results = conc_dynamic.run_many(
        [conc_dynamic.create_bulk_run_item(Job(group="D", limit=3, seconds=0.3)) for _ in range(9)]
    )
    assert _max_overlap([(r["start"], r["end"]) for r in results]) == 3


# --- CANCEL_* strategies ----------------------------------------------------------------------
def _strategy_task(name: str, strategy: ConcurrencyLimitStrategy) -> Any:
    @hatchet.task(
        name=name,
        input_validator=Job,
        concurrency=ConcurrencyExpression(
            expression="input.group", max_runs=1, limit_strategy=strategy
        ),
    )
    async def task(input: Job, ctx: Context) -> dict[str, float]:
        return await _ainterval(input.seconds)

    return task


cancel_newest = _strategy_task("flow_conc_cancel_newest", S.CANCEL_NEWEST)
except_newest = _strategy_task("flow_conc_except_newest", S.CANCEL_QUEUED_EXCEPT_NEWEST)
except_oldest = _strategy_task("flow_conc_except_oldest", S.CANCEL_QUEUED_EXCEPT_OLDEST)

in_progress = hatchet.workflow(
    name="flow_conc_in_progress",
    input_validator=Job,
    concurrency=ConcurrencyExpression(
        expression="input.group", max_runs=1, limit_strategy=S.CANCEL_IN_PROGRESS
    ),
)


@in_progress.task()
async def step_a(input: Job, ctx: Context) -> dict[str, float]:
    return await _ainterval(input.seconds)


@in_progress.task(parents=[step_a])
async def step_b(input: Job, ctx: Context) -> dict[str, float]:
    return await _ainterval(input.seconds)


def _statuses(run_ids: list[str]) -> list[str]:
    client = hatchet._registry.client()
    states = client.fetch_many(run_ids)
    return [s.status if s is not None else "MISSING" for s in states]


def _wait_done(refs: list[Any], timeout: float = 20.0) -> list[str]:
    ids = [r.workflow_run_id for r in refs]
    deadline = time.time() + timeout
    while time.time() < deadline:
        statuses = _statuses(ids)
        if all(s in ("COMPLETED", "FAILED", "CANCELLED") for s in statuses):
            return statuses
        time.sleep(0.05)
    raise AssertionError(f"runs not finished: {_statuses(ids)}")


def test_cancel_in_progress_only_the_last_of_ten_quick_triggers_completes() -> None:
    refs = []
    for _ in range(10):
        refs.append(in_progress.run(Job(group="cip", seconds=0.6), wait_for_result=False))
        time.sleep(0.1)
    statuses = _wait_done(refs)
    assert statuses == ["CANCELLED"] * 9 + ["COMPLETED"]


def test_cancel_newest_keeps_the_running_one() -> None:
    first_ref = cancel_newest.run(Job(group="cn", seconds=0.8), wait_for_result=False)
    time.sleep(0.3)
    later = [cancel_newest.run(Job(group="cn"), wait_for_result=False) for _ in range(4)]
    statuses = _wait_done([first_ref, *later])
    assert statuses == ["COMPLETED"] + ["CANCELLED"] * 4


def test_cancel_queued_except_newest_runs_the_holder_and_the_newest() -> None:
    refs = [except_newest.run(Job(group="en", seconds=0.5), wait_for_result=False)]
    time.sleep(0.2)
    refs += [
        except_newest.run(Job(group="en", seconds=0.1), wait_for_result=False) for _ in range(4)
    ]
    assert _wait_done(refs) == ["COMPLETED", "CANCELLED", "CANCELLED", "CANCELLED", "COMPLETED"]


def test_cancel_queued_except_oldest_runs_the_holder_and_the_oldest_waiter() -> None:
    refs = [except_oldest.run(Job(group="eo", seconds=0.5), wait_for_result=False)]
    time.sleep(0.2)
    refs += [
        except_oldest.run(Job(group="eo", seconds=0.1), wait_for_result=False) for _ in range(4)
    ]
    assert _wait_done(refs) == ["COMPLETED", "COMPLETED", "CANCELLED", "CANCELLED", "CANCELLED"]


@hatchet.task(
    name="flow_conc_bad_key",
    input_validator=Job,
    concurrency=ConcurrencyExpression(
        expression="input.missing", max_runs=1, limit_strategy=S.GROUP_ROUND_ROBIN
    ),
)
def conc_bad_key(input: Job, ctx: Context) -> None:
    return None


def test_a_key_that_cannot_be_evaluated_fails_the_run_naming_the_expression() -> None:
    with pytest.raises(FailedTaskRunExceptionGroup, match="input.missing"):
        conc_bad_key.run(Job())


# --- processes: the cap across workers, capacity back from a killed worker, the sweep --------
PROCS = "tests.apps.flow_conc:hatchet"


def test_three_workers_1000_runs_20_keys_never_exceed_two_per_key() -> None:
    from tests.apps.flow_conc import Keyed, many

    keys = [f"k{i % 20}" for i in range(1000)]
    with (
        WorkerProcess(PROCS, name="c1", slots=16),
        WorkerProcess(PROCS, name="c2", slots=16),
        WorkerProcess(PROCS, name="c3", slots=16),
    ):
        results = many.run_many([many.create_bulk_run_item(Keyed(key=k)) for k in keys])
    by_key: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for key, out in zip(keys, results, strict=True):
        by_key[key].append((out["start"], out["end"]))
    assert len(by_key) == 20
    peaks = {k: _max_overlap(v) for k, v in by_key.items()}
    assert max(peaks.values()) == 2, peaks


def _wait_status(run_id: str, task: str, status: str, owner: Any, timeout: float = 15.0) -> None:
    wait_for_task_status(owner, run_id, task, status, timeout=timeout)


def test_slots_of_a_sigkilled_worker_come_back_within_the_lease() -> None:
    from tests.apps.flow_conc import Keyed, hold
    from tests.apps.flow_conc import hatchet as procs

    lease = procs._registry.config.lease_seconds
    doomed = WorkerProcess(PROCS, name="doomed", slots=4, env={"FLOW_HANG": "1"}).start()
    try:
        holders = [hold.run(Keyed(key="K", seconds=0.1), wait_for_result=False) for _ in range(2)]
        for ref in holders:
            _wait_status(ref.workflow_run_id, "flow_conc_hold", "RUNNING", procs)
        waiting = hold.run(Keyed(key="K", seconds=0.1), wait_for_result=False)
        _wait_status(waiting.workflow_run_id, "flow_conc_hold", "WAIT_CONCURRENCY", procs)
        doomed.kill()
        killed_at = time.time()
    finally:
        doomed.stop()
    with WorkerProcess(PROCS, name="rescuer", slots=4) as rescuer:
        out = waiting.result()
        assert all(ref.result()["pid"] == rescuer.pid for ref in holders)
    # the killed worker's two slots came back once its task leases expired
    assert out["start"] - killed_at < lease + 4.0


def test_a_leaked_holder_is_swept(redis_client: Any) -> None:
    from hatchet_celery._runtime.flow import concurrency

    engine = hatchet._registry.engine()
    spec = concurrency.task_spec(conc_int.tasks[0])
    assert spec is not None
    state = engine.keys.conc_state(spec.gate)
    # a holder whose run is gone: its worker died between recording and releasing
    ghost = "00000000-0000-0000-0000-000000000000/flow_conc_int"
    redis_client.hset(state, mapping={f"h:{ghost}": '{"k":["constant"],"s":0}', "c:1:constant": 1})
    started = time.time()
    out = conc_int.run(Job(seconds=0.05))
    assert out["start"] - started < concurrency.SWEEP_SECONDS + 3.0
    assert redis_client.hget(state, "c:1:constant") in (None, "0", "1")
    assert not redis_client.hexists(state, f"h:{ghost}")


def test_expressions_and_strategies_are_checked_at_declaration() -> None:
    from hatchet_celery.exceptions import CelCompileError, DeclarationError

    with pytest.raises(CelCompileError, match="inptu"):
        hatchet.workflow(
            name="flow_conc_typo",
            concurrency=ConcurrencyExpression(
                expression="inptu.group", max_runs=1, limit_strategy=S.GROUP_ROUND_ROBIN
            ),
        )
    with pytest.raises(DeclarationError, match="QUEUE_OLDEST"):

        @hatchet.task(
            name="flow_conc_queue_oldest",
            concurrency=ConcurrencyExpression(
                expression="'k'", max_runs=1, limit_strategy=S.QUEUE_OLDEST
            ),
        )
        def never(input: Job, ctx: Context) -> None:
            return None


@hatchet.task(
    name="flow_conc_sched_timeout",
    input_validator=Job,
    schedule_timeout=timedelta(seconds=1),
    concurrency=ConcurrencyExpression(
        expression="input.group", max_runs=1, limit_strategy=S.GROUP_ROUND_ROBIN
    ),
)
def conc_sched_timeout(input: Job, ctx: Context) -> dict[str, float]:
    return _interval(input.seconds)


def test_a_waiter_queued_past_its_schedule_timeout_fails() -> None:
    from hatchet_celery._runtime.flow.concurrency import SWEEP_SECONDS

    holder = conc_sched_timeout.run(
        Job(group="st", seconds=SWEEP_SECONDS + 1.0), wait_for_result=False
    )
    time.sleep(0.2)
    waiter = conc_sched_timeout.run(Job(group="st", seconds=0.1), wait_for_result=False)
    with pytest.raises(FailedTaskRunExceptionGroup, match="SCHEDULING_TIMED_OUT"):
        waiter.result()
    assert set(holder.result()) == {"start", "end"}
