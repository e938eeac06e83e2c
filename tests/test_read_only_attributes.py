"""The context's identity is read-only attributes (``hatchet_celery/_attributes.py``):
read as before, never assigned. Through ``mock_run``: no Redis, no worker."""

from __future__ import annotations

from typing import Any

import pytest

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet

h = Hatchet(config=ClientConfig(namespace="read_only_attributes"))


@h.task(name="reads_itself")
def reads_itself(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    with pytest.raises(AttributeError, match="Context.priority is read-only"):
        ctx.priority = 3  # type: ignore[assignment]
    return {
        "retry_count": ctx.retry_count,
        "attempt_number": ctx.attempt_number,
        "lifespan": ctx.lifespan,
        "child_key": ctx.child_key,
        "event": ctx.triggering_event_key,
        "filter_payload": ctx.filter_payload,
        "same_run_id": ctx.task_run_id == ctx.step_run_id,
    }


def test_the_context_reads_what_its_run_was_started_with() -> None:
    metadata = {"hatchet__event_key": "order.paid", "hatchet__filter_payload": {"a": 1}}
    out = reads_itself.mock_run(additional_metadata=metadata, retry_count=2, lifespan="life")
    assert out == {
        "retry_count": 2, "attempt_number": 3, "lifespan": "life", "child_key": None,
        "event": "order.paid", "filter_payload": {"a": 1}, "same_run_id": True,
    }  # fmt: skip
