"""Events and filters (§10): push, wildcards, metadata, filter rules, list/get, and a push
from a process that never imported the task code."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

from hatchet_celery import Context, DefaultFilter, EmptyModel
from hatchet_celery.clients.events import BulkPushEventWithMetadata
from hatchet_celery.exceptions import CelCompileError
from tests.apps import hatchet

SEEN: dict[str, list[dict[str, Any]]] = {}  # event id -> what the triggered runs saw


def _record(ctx: Context, name: str) -> dict[str, Any]:
    seen = {
        "task": name,
        "input": ctx.input,
        "key": ctx.triggering_event_key,
        "by_event": ctx.was_triggered_by_event,
        "filter_payload": ctx.filter_payload,
        "metadata": ctx.additional_metadata,
        "priority": ctx.priority,
    }
    SEEN.setdefault(ctx.triggering_event_id or "", []).append(seen)
    return seen


we_plain = hatchet.workflow(name="we-plain", on_events=["we:order:*", "we:exact"])


@we_plain.task()
def we_plain_task(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return _record(ctx, "plain")


we_filtered = hatchet.workflow(
    name="we-filtered",
    on_events=["we:filtered"],
    default_filters=[
        DefaultFilter(expression="input.n > 1", scope="declared", payload={"from": "default"})
    ],
)


@we_filtered.task()
def we_filtered_task(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return _record(ctx, "filtered")


we_remote = hatchet.workflow(name="we-remote", on_events=["we:remote"])


@we_remote.task()
def we_remote_task(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    return _record(ctx, "remote")


def _seen(event_id: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(SEEN.get(event_id, [])) >= count:
            time.sleep(0.2)  # no extra run arrives late
            return SEEN[event_id]
        time.sleep(0.02)
    return SEEN.get(event_id, [])


def _none(event_id: str) -> bool:
    time.sleep(0.5)
    return event_id not in SEEN


def test_push_triggers_subscribed_workflows_with_wildcards(worker: Any) -> None:
    exact = hatchet.event.push("we:exact", {"a": 1}, additional_metadata={"src": "t"}, priority=3)
    wild = hatchet.event.push("we:order:42", {"a": 2})
    miss = hatchet.event.push("we:orders", {"a": 3})
    [run] = _seen(exact.event_id)
    assert run["input"] == {"a": 1} and run["by_event"] and run["key"] == "tests_we:exact"
    assert run["metadata"]["src"] == "t" and run["metadata"]["hatchet__event_id"] == exact.event_id
    assert run["priority"] == 3
    assert _seen(wild.event_id)[0]["key"] == "tests_we:order:42"
    assert _none(miss.event_id)


def test_filters_gate_by_scope_and_expression(worker: Any) -> None:
    filters = hatchet.filters
    with pytest.raises(CelCompileError):
        filters.create(workflow_id=we_plain.id, expression="input.(", scope="s")
    scope = uuid.uuid4().hex
    f1 = filters.create(we_plain.id, "input.ok == true", scope, {"id": "1"})
    f2 = filters.create(
        we_plain.id, "payload.id == '2' && event_key.endsWith('exact')", scope, {"id": "2"}
    )
    try:
        no_scope = hatchet.event.push("we:exact", {"ok": True})
        other_scope = hatchet.event.push("we:exact", {"ok": True}, scope="other")
        false_expr = hatchet.event.push("we:order:1", {"ok": False}, scope=scope)
        both = hatchet.event.push("we:exact", {"ok": True}, scope=scope)
        runs = _seen(both.event_id, count=2)
        assert sorted(r["filter_payload"]["id"] for r in runs) == ["1", "2"]
        assert _none(no_scope.event_id) and _none(other_scope.event_id)
        assert _none(false_expr.event_id)
        assert {f.metadata.id for f in filters.list(workflow_ids=[we_plain.id]).rows or []} >= {
            f1.metadata.id,
            f2.metadata.id,
        }
    finally:
        filters.delete(f1.metadata.id)
        filters.delete(f2.metadata.id)
    again = hatchet.event.push("we:exact", {"ok": False}, scope=scope)
    assert _seen(again.event_id)[0]["filter_payload"] == {}  # no filter left: always runs


def test_default_filters_are_registered_by_the_worker(worker: Any) -> None:
    declared = [f for f in hatchet.filters.list(workflow_ids=[we_filtered.id]).rows or []]
    assert [(f.scope, f.is_declarative) for f in declared] == [("declared", True)]
    events = hatchet.event.bulk_push(
        [
            BulkPushEventWithMetadata(key="we:filtered", payload={"n": 2}, scope="declared"),
            BulkPushEventWithMetadata(key="we:filtered", payload={"n": 1}, scope="declared"),
            BulkPushEventWithMetadata(key="we:filtered", payload={"n": 5}),
        ]
    )
    assert [e.key for e in events] == ["tests_we:filtered"] * 3
    assert _seen(events[0].event_id)[0]["filter_payload"] == {"from": "default"}
    assert _none(events[1].event_id) and _none(events[2].event_id)


def test_list_and_get_events(worker: Any) -> None:
    marker = uuid.uuid4().hex
    pushed = hatchet.event.push(
        "we:listed", {"m": marker}, additional_metadata={"m": marker}, scope="sc"
    )
    got = hatchet.event.get(pushed.event_id)
    assert got.payload == {"m": marker} and got.scope == "sc" and got.key == "tests_we:listed"
    rows = hatchet.event.list(keys=["we:listed"], additional_metadata={"m": marker}).rows
    assert [r.metadata.id for r in rows or []] == [pushed.event_id]


def test_push_from_a_process_without_the_task_code(worker: Any, redis_url: str) -> None:
    code = (
        "import sys\n"
        "from hatchet_celery import ClientConfig, Hatchet\n"
        "h = Hatchet(config=ClientConfig(namespace='tests'))\n"
        "e = h.event.push('we:remote', {'from': 'elsewhere'})\n"
        "assert not [m for m in sys.modules if m.startswith('tests')]\n"
        "print(e.event_id)\n"
    )
    env = {**os.environ, "HATCHET_CELERY_REDIS_URL": redis_url}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        check=True,
    )
    event_id = out.stdout.strip().splitlines()[-1]
    [run] = _seen(event_id)
    assert run["task"] == "remote" and run["input"] == {"from": "elsewhere"}


def test_event_of_a_pusher_that_died_is_finished_by_a_worker(worker: Any) -> None:
    """The push script stores the event with a recovery timer; if the pusher dies before
    waking and triggering, a worker does it, once."""
    import json

    from hatchet_celery._runtime.waits.events import recover_event
    from hatchet_celery._timer_entries import EventRecovery

    engine = hatchet._registry.engine()
    keys = engine.keys
    now = engine.now()
    key = hatchet.config.apply_namespace("we:exact")
    event_id = str(uuid.uuid4())
    doc = {
        "id": event_id,
        "key": key,
        "payload": {"late": True},
        "metadata": {},
        "scope": None,
        "priority": None,
        "ts": now,
    }
    engine.store.script(  # what a pusher that died right after storing left behind
        "event_push",
        [
            keys.event_data,
            keys.events,
            keys.events_by_key(key),
            keys.event_waiters(key),
            keys.timers,
        ],
        [event_id, json.dumps(doc), now, now - 3600, now],
    )
    [run] = _seen(event_id)
    assert run["input"] == {"late": True}
    recover_event(engine, EventRecovery(event_id), engine.now())  # processed twice: one run
    time.sleep(0.5)
    assert len(SEEN[event_id]) == 1
