"""Bulk triggers larger than one ``create_run`` batch: each batch's roots are published as
soon as that batch exists, so workers start before the last runs are created, and every
run of every batch is created, published and reported as before."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import Context, TTLBasedIdempotencyConfig
from hatchet_celery._runtime.core import client as run_client
from hatchet_celery.exceptions import BulkTriggerIdempotencyCollisionError
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


class Item(BaseModel):
    id: str


@hatchet.task(
    name="bulk_batches_echo",
    input_validator=Item,
    idempotency=TTLBasedIdempotencyConfig(key_expression="input.id", ttl=timedelta(minutes=1)),
)
def bulk_batches_echo(input: Item, ctx: Context) -> dict[str, str]:
    return {"id": input.id}


def _items(keys: list[str]) -> list[Any]:
    return [bulk_batches_echo.create_bulk_run_item(Item(id=k)) for k in keys]


def test_runs_of_every_batch_complete_with_their_own_input_and_collisions_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(run_client, "CREATE_BATCH", 2)
    keys = [uuid.uuid4().hex for _ in range(4)]
    # the fifth item (third batch) collides with the first (first batch)
    with pytest.raises(BulkTriggerIdempotencyCollisionError) as info:
        bulk_batches_echo.run_many(_items([*keys, keys[0]]))
    made = info.value.successful_workflow_run_external_ids
    assert len(made) == 4
    assert [c.existing_run_external_id for c in info.value.collisions] == [made[0]]
    assert [bulk_batches_echo.get_result(run_id) for run_id in made] == [{"id": k} for k in keys]


def test_a_batch_is_published_before_the_next_one_is_created(
    monkeypatch: pytest.MonkeyPatch, redis_client: Any
) -> None:
    monkeypatch.setattr(run_client, "CREATE_BATCH", 2)
    create_sha = hatchet._registry.engine().store._scripts["create_run"].sha
    seen: list[tuple[str, str]] = []  # ("create", first key) / ("publish", command)
    with redis_client.monitor() as monitor:
        refs = bulk_batches_echo.run_many_no_wait(_items([uuid.uuid4().hex for _ in range(5)]))
        ids = [ref.workflow_run_id for ref in refs]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            command = monitor.next_command()["command"]
            if command.startswith(f"EVALSHA {create_sha}") and any(i in command for i in ids):
                seen.append(("create", command))
            elif command.startswith("LPUSH") and any(i in command for i in ids):
                seen.append(("publish", command))
            if sum(kind == "publish" for kind, _ in seen) == 5:
                break
    kinds = [kind for kind, _ in seen]
    assert kinds.count("create") == 3, kinds
    assert kinds.count("publish") == 5, kinds
    # batch by batch: 2 runs created, their 2 roots published, then the next batch
    assert kinds == ["create", "publish", "publish"] * 2 + ["create", "publish"]
    for ref in refs:
        assert ref.result() is not None
