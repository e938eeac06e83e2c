"""Idempotency keys: TTL- and status-based, CEL keys, direct / bulk / event triggers,
held across retries, released when a status-based key's run finishes."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import (
    BulkTriggerIdempotencyCollisionError,
    Context,
    IdempotencyCollisionError,
    StatusBasedIdempotencyConfig,
    TTLBasedIdempotencyConfig,
    V1TaskStatus,
)
from hatchet_celery._cel import CelEvaluationError
from hatchet_celery.exceptions import CelCompileError, DeclarationError
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")

EVENT = "idem:event"


class IdemIn(BaseModel):
    id: str
    mode: str = "ok"


@hatchet.task(
    name="idem_ttl",
    input_validator=IdemIn,
    idempotency=TTLBasedIdempotencyConfig(key_expression="input.id", ttl=timedelta(minutes=1)),
    on_events=[EVENT],
)
def idem_ttl(input: IdemIn, ctx: Context) -> dict[str, str]:
    return {"id": input.id}


@hatchet.task(
    name="idem_short",
    input_validator=IdemIn,
    idempotency=TTLBasedIdempotencyConfig(
        key_expression="'short-' + input.id", ttl=timedelta(seconds=1)
    ),
)
def idem_short(input: IdemIn, ctx: Context) -> dict[str, str]:
    return {"id": input.id}


@hatchet.task(
    name="idem_status",
    input_validator=IdemIn,
    retries=2,
    idempotency=StatusBasedIdempotencyConfig(
        key_expression="'st-' + input.id", fallback_ttl=timedelta(minutes=1)
    ),
)
async def idem_status(input: IdemIn, ctx: Context) -> dict[str, str]:
    import asyncio

    if input.mode in ("wait", "cancel"):  # holds the run open until the test lets it go on
        for _ in range(1200):
            if _released(input.id):
                break
            await asyncio.sleep(0.05)
    if input.mode == "fail":
        raise ValueError(f"{input.id} failed as requested (attempt {ctx.retry_count})")
    if input.mode == "retry_then_ok" and ctx.retry_count == 0:
        raise ValueError("first attempt fails")
    if input.mode == "cancel":
        await ctx.aio_cancel()
        await asyncio.sleep(10)
    return {"id": input.id, "attempt": str(ctx.retry_count)}


idem_meta = hatchet.workflow(
    name="idem_meta",
    idempotency=TTLBasedIdempotencyConfig(
        key_expression="additional_metadata.order", ttl=timedelta(minutes=1)
    ),
)


@idem_meta.task()
def idem_meta_step(input: Any, ctx: Context) -> dict[str, str]:
    return {"ok": "yes"}


def _released(key: str) -> bool:
    import os

    import redis

    client = redis.Redis.from_url(os.environ["HATCHET_CELERY_REDIS_URL"])
    try:
        return bool(client.exists(f"test-idem-release:{key}"))
    finally:
        client.close()


def _release(redis_client: Any, key: str) -> None:
    redis_client.set(f"test-idem-release:{key}", 1, ex=60)


def _key() -> str:
    return uuid.uuid4().hex


# --- direct triggers --------------------------------------------------------------------------


def test_ttl_key_collides_with_the_run_that_holds_it() -> None:
    key = _key()
    ref = idem_ttl.run_no_wait(IdemIn(id=key))
    with pytest.raises(IdempotencyCollisionError) as info:
        idem_ttl.run_no_wait(IdemIn(id=key))
    assert info.value.existing_run_external_id == ref.workflow_run_id
    assert ref.workflow_run_id in str(info.value)
    # ... also once the run has finished: a TTL key outlives its run
    assert ref.result() == {"id": key}
    with pytest.raises(IdempotencyCollisionError):
        idem_ttl.run(IdemIn(id=key))
    assert idem_ttl.run(IdemIn(id=_key()))["id"]  # another key is free


def test_ttl_key_is_free_again_after_its_ttl() -> None:
    key = _key()
    first = idem_short.run_no_wait(IdemIn(id=key))
    with pytest.raises(IdempotencyCollisionError):
        idem_short.run_no_wait(IdemIn(id=key))
    deadline = time.monotonic() + 30
    while True:  # the key expires on Redis's clock, one second after it was taken
        try:
            second = idem_short.run_no_wait(IdemIn(id=key))
            break
        except IdempotencyCollisionError as exc:
            assert exc.existing_run_external_id == first.workflow_run_id
            assert time.monotonic() < deadline, "the 1 s key never expired"
            time.sleep(0.1)
    assert second.workflow_run_id != first.workflow_run_id
    assert second.result() == {"id": key}


def test_key_from_additional_metadata() -> None:
    order = _key()
    ref = idem_meta.run_no_wait(additional_metadata={"order": order})
    with pytest.raises(IdempotencyCollisionError) as info:
        idem_meta.run_no_wait(additional_metadata={"order": order})
    assert info.value.existing_run_external_id == ref.workflow_run_id
    assert ref.result() == {"idem_meta_step": {"ok": "yes"}}


def test_a_key_that_does_not_evaluate_names_the_workflow_and_expression() -> None:
    with pytest.raises(CelEvaluationError) as info:
        idem_meta.run_no_wait(additional_metadata={"other": "x"})
    assert "idem_meta" in str(info.value)
    assert "additional_metadata.order" in str(info.value)


def test_racing_triggers_make_exactly_one_run() -> None:
    key = _key()
    made: list[str] = []
    held: list[str] = []
    barrier = threading.Barrier(8)

    def trigger() -> None:
        barrier.wait()
        try:
            made.append(idem_ttl.run_no_wait(IdemIn(id=key)).workflow_run_id)
        except IdempotencyCollisionError as exc:
            held.append(exc.existing_run_external_id)

    threads = [threading.Thread(target=trigger) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(made) == 1
    assert held == made * 7


# --- status-based keys ------------------------------------------------------------------------


def test_status_key_held_while_running_released_when_completed(redis_client: Any) -> None:
    key = _key()
    ref = idem_status.run_no_wait(IdemIn(id=key, mode="wait"))
    with pytest.raises(IdempotencyCollisionError) as info:
        idem_status.run_no_wait(IdemIn(id=key))
    assert info.value.existing_run_external_id == ref.workflow_run_id
    _release(redis_client, key)
    assert ref.result()["id"] == key
    again = idem_status.run_no_wait(IdemIn(id=key))  # at once: no window after the finish
    assert again.workflow_run_id != ref.workflow_run_id
    assert again.result()["id"] == key


def test_status_key_held_across_retries_released_when_they_are_exhausted() -> None:
    key = _key()
    ref = idem_status.run_no_wait(IdemIn(id=key, mode="fail"))
    collided = 0
    deadline = time.monotonic() + 60
    while hatchet.runs.get_status(ref.workflow_run_id) != V1TaskStatus.FAILED:
        assert time.monotonic() < deadline, "the run never failed"
        try:
            idem_status.run_no_wait(IdemIn(id=key))
        except IdempotencyCollisionError as exc:
            assert exc.existing_run_external_id == ref.workflow_run_id
            collided += 1
        else:  # only if the run failed between the status read and the trigger
            assert hatchet.runs.get_status(ref.workflow_run_id) == V1TaskStatus.FAILED
            break
        time.sleep(0.2)
    assert collided > 0
    with pytest.raises(Exception, match="failed as requested"):
        ref.result()
    again = idem_status.run_no_wait(IdemIn(id=key, mode="retry_then_ok"))
    assert again.result()["attempt"] == "1"


def test_status_key_released_on_cancel(redis_client: Any) -> None:
    key = _key()
    ref = idem_status.run_no_wait(IdemIn(id=key, mode="cancel"))
    with pytest.raises(IdempotencyCollisionError):
        idem_status.run_no_wait(IdemIn(id=key))
    _release(redis_client, key)  # now the task cancels its own run
    with pytest.raises(Exception, match="cancelled"):
        ref.result()
    assert idem_status.run(IdemIn(id=key))["id"] == key


# --- bulk and event triggers ------------------------------------------------------------------


def test_bulk_trigger_creates_the_others_and_reports_collisions() -> None:
    a, b = _key(), _key()
    items = [idem_ttl.create_bulk_run_item(IdemIn(id=k)) for k in (a, a, b)]
    with pytest.raises(BulkTriggerIdempotencyCollisionError) as info:
        idem_ttl.run_many(items)
    made = info.value.successful_workflow_run_external_ids
    assert len(made) == 2
    assert [c.existing_run_external_id for c in info.value.collisions] == [made[0]]
    assert idem_ttl.get_result(made[1]) == {"id": b}


async def test_bulk_trigger_of_one_item_raises_the_bulk_error() -> None:
    key = _key()
    await idem_ttl.aio_run_no_wait(IdemIn(id=key))
    with pytest.raises(BulkTriggerIdempotencyCollisionError) as info:
        await idem_ttl.aio_run_many_no_wait([idem_ttl.create_bulk_run_item(IdemIn(id=key))])
    assert info.value.successful_workflow_run_external_ids == []
    assert len(info.value.collisions) == 1


def test_event_triggers_make_one_run_per_key() -> None:
    key = _key()
    e1 = hatchet.event.push(EVENT, {"id": key}, additional_metadata={"idem": key})
    e2 = hatchet.event.push(EVENT, {"id": key}, additional_metadata={"idem": key})
    events = hatchet.event.list(event_ids=[e1.event_id, e2.event_id])
    runs = [r.workflow_run_id for row in events.rows for r in row.triggered_runs or []]
    assert len(runs) == 1
    assert idem_ttl.get_result(runs[0]) == {"id": key}
    with pytest.raises(IdempotencyCollisionError):  # the event's run holds the key
        idem_ttl.run_no_wait(IdemIn(id=key))


# --- declarations -----------------------------------------------------------------------------


def test_bad_key_expression_fails_at_declaration() -> None:
    with pytest.raises(CelCompileError, match="idempotency key of workflow 'idem_bad'"):
        hatchet.workflow(
            name="idem_bad",
            idempotency=TTLBasedIdempotencyConfig(
                key_expression="inptu.id", ttl=timedelta(seconds=5)
            ),
        )


def test_ttl_must_be_positive() -> None:
    declare = hatchet.task(
        name="idem_zero",
        idempotency=StatusBasedIdempotencyConfig(
            key_expression="input.id", fallback_ttl=timedelta(0)
        ),
    )
    with pytest.raises(DeclarationError, match="fallback_ttl must be positive"):
        declare(lambda input, ctx: None)
