"""Retries, backoff, non-retryable errors, execution and schedule timeouts, output rules."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
import redis as redis_lib

from hatchet_celery import (
    Context,
    EmptyModel,
    FailedTaskRunExceptionGroup,
    NonRetryableException,
)
from hatchet_celery.testing import WorkerProcess
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


def _attempts_key(ctx: Context) -> str:
    return f"test:attempts:{ctx.workflow_run_id}"


def _record(ctx: Context) -> None:
    client = hatchet._registry.engine().store.redis
    client.rpush(
        _attempts_key(ctx),
        json.dumps(
            {
                "at": time.time(),
                "retry_count": ctx.retry_count,
                "attempt_number": ctx.attempt_number,
                "max_attempts": ctx.max_attempts,
            }
        ),
    )


def _attempts(redis_client: redis_lib.Redis, run_id: str) -> list[dict[str, float]]:
    return [json.loads(x) for x in redis_client.lrange(f"test:attempts:{run_id}", 0, -1)]


@hatchet.task(name="core_flaky", retries=2, backoff_factor=1.5, backoff_max_seconds=1)
def flaky(input: EmptyModel, ctx: Context) -> dict[str, int]:
    _record(ctx)
    if ctx.retry_count < 2:
        raise RuntimeError(f"fail on attempt {ctx.attempt_number}")
    return {"succeeded_on": ctx.attempt_number}


def test_retries_with_backoff_bounds(redis_client: redis_lib.Redis) -> None:
    ref = flaky.run(wait_for_result=False)
    assert ref.result() == {"succeeded_on": 3}
    attempts = _attempts(redis_client, ref.workflow_run_id)
    assert [a["retry_count"] for a in attempts] == [0, 1, 2]
    assert [a["attempt_number"] for a in attempts] == [1, 2, 3]
    assert {a["max_attempts"] for a in attempts} == {3}
    # delay before retry n = min(backoff_max_seconds, backoff_factor ** n) = 1 s both times
    gaps = [b["at"] - a["at"] for a, b in zip(attempts, attempts[1:], strict=False)]
    assert all(0.95 <= g < 2.5 for g in gaps), gaps


@hatchet.task(name="core_no_retry", retries=3)
def no_retry(input: EmptyModel, ctx: Context) -> dict[str, int]:
    _record(ctx)
    raise NonRetryableException("give up at once")


def test_non_retryable_exception_skips_remaining_retries(redis_client: redis_lib.Redis) -> None:
    ref = no_retry.run(wait_for_result=False)
    with pytest.raises(FailedTaskRunExceptionGroup) as info:
        ref.result()
    assert info.value.exceptions[0].exc_type == "NonRetryableException"
    assert len(_attempts(redis_client, ref.workflow_run_id)) == 1


@hatchet.task(name="core_exhausts", retries=1)
def exhausts(input: EmptyModel, ctx: Context) -> dict[str, int]:
    _record(ctx)
    raise KeyError("always")


def test_failure_after_retries_reports_last_error(redis_client: redis_lib.Redis) -> None:
    ref = exhausts.run(wait_for_result=False)
    with pytest.raises(FailedTaskRunExceptionGroup) as info:
        ref.result()
    assert info.value.exceptions[0].exc_type == "KeyError"
    assert len(_attempts(redis_client, ref.workflow_run_id)) == 2


@hatchet.task(name="core_sync_timeout", execution_timeout=timedelta(seconds=1), retries=1)
def sync_timeout(input: EmptyModel, ctx: Context) -> dict[str, int]:
    _record(ctx)
    if ctx.retry_count == 0:
        deadline = time.time() + 30
        while time.time() < deadline and not ctx.is_cancelled:
            time.sleep(0.05)
        # how the first attempt ended: cut by its 1 s timeout, or ran its whole loop
        hatchet._registry.engine().store.redis.rpush(
            f"test:cut:{ctx.workflow_run_id}", "cancelled" if ctx.is_cancelled else "ran out"
        )
        return {"late": 1}
    return {"attempt": ctx.attempt_number}


def test_sync_execution_timeout_fails_the_attempt_and_retries(
    redis_client: redis_lib.Redis,
) -> None:
    ref = sync_timeout.run(wait_for_result=False)
    assert ref.result() == {"attempt": 2}
    # the first attempt was cut by its timeout (its loop would have run 30 s), and its late
    # return value was not recorded as the outcome
    # (the cut attempt notices its cancellation a moment later, maybe after the retry ended)
    cut_key = f"test:cut:{ref.workflow_run_id}"
    deadline = time.monotonic() + 60
    while not redis_client.lrange(cut_key, 0, -1) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert redis_client.lrange(cut_key, 0, -1) == ["cancelled"]
    assert len(_attempts(redis_client, ref.workflow_run_id)) == 2


@hatchet.task(name="core_async_timeout", execution_timeout=timedelta(seconds=1))
async def async_timeout(input: EmptyModel, ctx: Context) -> dict[str, int]:
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:  # the timeout cancels the coroutine inside its sleep
        hatchet._registry.engine().store.redis.rpush("test:async_timeout:cut", ctx.workflow_run_id)
        raise
    return {"never": 1}


def test_async_execution_timeout_cancels_and_fails(redis_client: redis_lib.Redis) -> None:
    ref = async_timeout.run(wait_for_result=False)
    with pytest.raises(FailedTaskRunExceptionGroup) as info:
        ref.result()  # long before the 60 s sleep would end: the coroutine was cancelled
    # The watchdog cancels the coroutine and records the failure at once; the coroutine's
    # handler runs on the loop thread and may write a moment after the result arrives.
    deadline = time.monotonic() + 30
    while ref.workflow_run_id not in redis_client.lrange("test:async_timeout:cut", 0, -1):
        assert time.monotonic() < deadline, "the timed-out coroutine was never cancelled"
        time.sleep(0.02)
    err = info.value.exceptions[0]
    assert err.exc_type == "TaskTimeoutError"
    assert "exceeded timeout" in err.exc


@hatchet.task(name="core_refresh", execution_timeout=timedelta(seconds=1))
def refreshes(input: EmptyModel, ctx: Context) -> dict[str, str]:
    ctx.refresh_timeout(timedelta(seconds=2))
    time.sleep(1.8)
    return {"done": "after refresh"}


def test_refresh_timeout_extends_the_deadline() -> None:
    assert refreshes.run() == {"done": "after refresh"}


@hatchet.task(name="core_bad_output")
def bad_output(input: EmptyModel, ctx: Context) -> str:
    return "a string is not an output"


def test_output_that_is_not_an_object_fails_the_task() -> None:
    with pytest.raises(FailedTaskRunExceptionGroup) as info:
        bad_output.run()
    err = info.value.exceptions[0]
    assert err.exc_type == "IllegalTaskOutputError"
    assert "core_bad_output" in err.exc and "str" in err.exc


def test_schedule_timeout_fails_a_task_that_waited_too_long() -> None:
    # A namespace no worker serves yet: the task waits in the queue past its deadline.
    from tests.apps.isolated import waits

    ref = waits.run(wait_for_result=False)
    time.sleep(1.5)  # past the schedule deadline; asserted through the outcome below
    with (
        WorkerProcess("tests.apps.isolated:sched", name="late", slots=2),
        pytest.raises(FailedTaskRunExceptionGroup) as info,
    ):
        ref.result()
    assert "SCHEDULING_TIMED_OUT" in info.value.exceptions[0].exc
