"""Events: store a pushed event, wake the waits it meets, trigger the subscribed workflows.

Which workflows listen to which keys is written to Redis by the workers when they start
(``register_subscriptions``), with their declarative ``default_filters``; filters made
through ``hatchet.filters`` live beside them. So a process that imported no task code can
push events and trigger runs: it reads what the workers serve.

Trigger rules (Hatchet §10): a workflow whose ``on_events`` matches the key (``*`` is a
wildcard) gets one run when it has no filter; with filters, only those whose scope equals
the event's scope count, and it gets one run per filter whose CEL expression is true (the
run's ``ctx.filter_payload`` is that filter's payload). Runs get the event payload as input
and the event's metadata plus ``hatchet__event_id`` / ``hatchet__event_key``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from hatchet_celery._cel import CelEvaluationError, cel_bool, compile_cel
from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome
from hatchet_celery._runtime.core.trigger_target import TriggerTarget
from hatchet_celery._runtime.waits.store import RECOVERY_SECONDS, matches, satisfy
from hatchet_celery._timer_entries import EventRecovery
from hatchet_celery.clients.admin import TriggerWorkflowOptions, WorkflowRunTriggerConfig
from hatchet_celery.clients.events import Event
from hatchet_celery.context import current_context
from hatchet_celery.exceptions import (
    BulkTriggerIdempotencyCollisionError,
    IdempotencyCollisionError,
)

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.clients.admin import WorkflowRunTriggerConfig

log = logging.getLogger(__name__)
FILTER_CEL_VARIABLES = ("input", "payload", "additional_metadata", "event_key")
FILTER_PAYLOAD_KEY = "hatchet__filter_payload"


@dataclass(frozen=True)
class EventIn:
    """An event to push, its key already namespaced."""

    key: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    priority: int | None = None
    scope: str | None = None


# --- subscriptions (written by workers) ------------------------------------------------------
def register_subscriptions(engine: Engine) -> None:
    """Publish the event keys and default filters of every workflow this worker serves."""
    keys = engine.keys
    pipe = engine.store.redis.pipeline(transaction=False)
    for name, wf in engine.registry.workflows.items():
        declarative = []
        args: list[Any] = []
        for i, f in enumerate(wf.config.default_filters):
            compile_cel(
                f.expression,
                what=f"default filter of workflow {name!r}",
                variables=FILTER_CEL_VARIABLES,
            )
            fid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hatchet-celery:filter:{name}:{i}"))
            declarative.append(fid)
            args += [
                fid,
                json.dumps(
                    filter_record(
                        fid, name, f.expression, f.scope, dict(f.payload), declarative=True
                    )
                ),
            ]
        on_events = [engine.registry.config.apply_namespace(k) for k in wf.config.on_events]
        sub = (
            json.dumps(
                {
                    "on_events": on_events,
                    "tasks": [t.name for t in wf.tasks],
                    "declarative": declarative,
                }
            )
            if on_events or declarative
            else ""
        )
        engine.store.script_in(
            pipe,
            "event_register",
            [keys.event_subscriptions, keys.event_filters],
            [name, sub, *args],
        )
    pipe.execute()


def filter_record(
    fid: str,
    workflow: str,
    expression: str,
    scope: str,
    payload: dict[str, Any],
    *,
    declarative: bool,
    created_at: float | None = None,
) -> dict[str, Any]:
    now = created_at or datetime.now(UTC).timestamp()
    return {
        "id": fid,
        "workflow": workflow,
        "workflow_id": workflow,
        "expression": expression,
        "scope": scope,
        "payload": payload,
        "declarative": declarative,
        "created_at": now,
        "updated_at": now,
    }


@functools.lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


def key_matches(pattern: str, key: str) -> bool:
    return pattern == key or ("*" in pattern and _pattern(pattern).match(key) is not None)


# --- push -------------------------------------------------------------------------------------
def push(registry: Registry, events: list[EventIn]) -> list[Event]:
    """Store the events, wake the waits they meet and trigger the subscribed workflows."""
    engine = registry.engine()
    keys = engine.keys
    now = engine.now()
    cutoff = now - max(engine.config.retention_seconds, 3600)
    ctx = current_context.get()
    docs = []
    pipe = engine.store.redis.pipeline(transaction=False)
    for e in events:
        metadata = dict(e.metadata)
        if ctx is not None:
            metadata["hatchet__source_workflow_run_id"] = ctx.workflow_run_id
            metadata["hatchet__source_step_run_id"] = ctx.task_run_id
        doc = {
            "id": str(uuid.uuid4()),
            "key": e.key,
            "payload": e.payload,
            "metadata": metadata,
            "scope": e.scope,
            "priority": e.priority,
            "ts": now,
        }
        docs.append(doc)
        engine.store.script_in(
            pipe,
            "event_push",
            [
                keys.event_data,
                keys.events,
                keys.events_by_key(e.key),
                keys.event_waiters(e.key),
                keys.timers,
            ],
            [doc["id"], json.dumps(doc), now, cutoff, now + RECOVERY_SECONDS],
        )
    pipe.hgetall(keys.event_subscriptions)
    pipe.hgetall(keys.event_filters)
    results = pipe.execute()
    subs = {k: json.loads(v) for k, v in results[-2].items()}
    filters = [json.loads(v) for v in results[-1].values()]
    for doc, flat in zip(docs, results[:-2], strict=True):
        _wake(engine, doc, flat)
    _trigger(registry, docs, subs, filters)
    # the pusher's own cleanup: its recovery timers are not needed any more
    engine.store.redis.zrem(keys.timers, *[EventRecovery(str(doc["id"])).member for doc in docs])
    tenant = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hatchet-celery:{registry.config.namespace}"))
    return [to_event(doc, tenant) for doc in docs]


def to_event(doc: dict[str, Any], tenant_id: str) -> Event:
    ts = datetime.fromtimestamp(float(doc["ts"]), UTC)
    return Event(
        tenant_id=tenant_id,
        event_id=doc["id"],
        key=doc["key"],
        payload=json.dumps(doc.get("payload") or {}),
        event_timestamp=ts,
        additional_metadata=json.dumps(doc.get("metadata") or {}),
        scope=doc.get("scope"),
        seen_at=ts,
    )


def _wake(engine: Engine, doc: dict[str, Any], flat: list[str], recovering: bool = False) -> None:
    """Meet the waits (task conditions, durable waits) that this event satisfies.

    ``recovering``: the waiters were read after the push, so waits that started after the
    event are among them; they must not take it.
    """
    if not flat:
        return
    waiter_key = engine.keys.event_waiters(doc["key"])
    payload = json.dumps(doc.get("payload") or {})
    for i in range(0, len(flat), 2):
        member, waiter = flat[i], json.loads(flat[i + 1])
        if not matches(waiter, doc):
            continue
        if recovering and float(waiter.get("since") or 0) > float(doc["ts"]):
            continue
        local = engine.celery_name(waiter.get("wf", ""), waiter["task"]) in engine.registry.tasks
        try:
            satisfy(
                engine,
                waiter["run"],
                waiter["task"],
                waiter["wid"],
                waiter["cid"],
                payload,
                waiter_key=waiter_key,
                member=member,
                local=local,
            )
        except Exception:
            log.exception(
                "hatchet_celery: waking %s of run %s failed", waiter["task"], waiter["run"]
            )


def _runs_for(doc: dict[str, Any], name: str, filters: list[dict[str, Any]]) -> list[Any]:
    """The filter payloads of the runs this event gives one workflow (None: no filter)."""
    own = [f for f in filters if f.get("workflow") == name]
    if not own:
        return [None]
    payloads = []
    variables = {
        "input": doc.get("payload") or {},
        "additional_metadata": doc.get("metadata") or {},
        "event_key": doc["key"],
    }
    for f in own:
        if doc.get("scope") is None or f.get("scope") != doc.get("scope"):
            continue
        what = f"filter {f['id']} of workflow {name!r}"
        try:
            program = compile_cel(f["expression"], what=what, variables=FILTER_CEL_VARIABLES)
            if cel_bool(program, {**variables, "payload": f.get("payload") or {}}, what=what):
                payloads.append(f.get("payload") or {})
        except (CelEvaluationError, ValueError) as exc:
            log.info("hatchet_celery: %s", exc)
    return payloads


def _trigger(
    registry: Registry,
    docs: list[dict[str, Any]],
    subs: dict[str, Any],
    filters: list[dict[str, Any]],
) -> None:
    batches: dict[str, list[WorkflowRunTriggerConfig]] = {}
    ids: dict[str, list[str]] = {}
    for doc in docs:
        base = {
            k: v for k, v in (doc.get("metadata") or {}).items() if not k.startswith("hatchet__")
        }
        base.update({"hatchet__event_id": doc["id"], "hatchet__event_key": doc["key"]})
        for name, sub in subs.items():
            if not any(key_matches(p, doc["key"]) for p in sub.get("on_events", [])):
                continue
            for n, payload in enumerate(_runs_for(doc, name, filters)):
                # The same run id if the event is processed again (recovery): no duplicate.
                ids.setdefault(name, []).append(
                    str(
                        uuid.uuid5(
                            uuid.NAMESPACE_URL, f"hatchet-celery:event:{doc['id']}:{name}:{n}"
                        )
                    )
                )
                metadata = dict(base)
                if payload is not None:
                    metadata[FILTER_PAYLOAD_KEY] = payload
                batches.setdefault(name, []).append(
                    WorkflowRunTriggerConfig(
                        workflow_name=name,
                        input=json.dumps(doc.get("payload") or {}),
                        options=TriggerWorkflowOptions(
                            additional_metadata=metadata, priority=doc.get("priority")
                        ),
                    )
                )
    # An idempotency key two workflows share goes to the one with the longer TTL, as in
    # Hatchet (its claim keeps the latest expiry among the runs of one trigger).
    for name, items in sorted(batches.items(), key=lambda b: -_idempotency_ttl(registry, b[0])):
        try:
            _trigger_workflow(registry, name, subs[name], items, ids[name])
        except (IdempotencyCollisionError, BulkTriggerIdempotencyCollisionError) as exc:
            log.info("hatchet_celery: event run(s) of workflow %r not created: %s", name, exc)
        except Exception:
            if len(items) == 1:
                log.exception("hatchet_celery: event trigger of workflow %r failed", name)
                continue
            for item, run_id in zip(items, ids[name], strict=True):  # keep the others
                try:
                    _trigger_workflow(registry, name, subs[name], [item], [run_id])
                except Exception as exc:  # e.g. an idempotency key taken: no run, as Hatchet
                    log.info("hatchet_celery: event run of workflow %r not created: %s", name, exc)


def _idempotency_ttl(registry: Registry, name: str) -> int:
    local = registry.workflows.get(name)
    idem = local.config.idempotency if local is not None else None
    return idem.ttl_ms if idem is not None else 0


def _trigger_workflow(
    registry: Registry,
    name: str,
    sub: dict[str, Any],
    items: list[WorkflowRunTriggerConfig],
    run_ids: list[str],
) -> None:
    """Trigger what the workers serve: the local declaration only when it is the same shape.

    Outside a task, so the runs are not children of the task that pushed the event.
    """
    client = registry.client()
    token = current_context.set(None)
    try:
        local = registry.workflows.get(name)
        if local is not None and [t.name for t in local.tasks] == sub.get("tasks"):
            client.trigger(local, items, run_ids)
            return
        engine = registry.engine()
        raw = engine.store.redis.hget(engine.keys.workflows, name)
        if raw is None:
            client.trigger_by_name(name, items, run_ids)
        else:  # a worker's pump dispatches the roots (through the gates)
            target = TriggerTarget.from_json(name, json.loads(raw))
            client._create(target, items, defer=True, run_ids=run_ids)
    finally:
        current_context.reset(token)


def recover_event(engine: Engine, entry: EventRecovery, now: float) -> Outcome:
    """Finish an event whose pushing process died before waking and triggering. Twice is
    once: a met wait is met once (``cond_satisfy``), a run's id comes from the event."""
    event_id = entry.key
    keys = engine.keys
    raw = engine.store.redis.hget(keys.event_data, event_id)
    if raw is not None:
        doc = json.loads(raw)
        redis = engine.store.redis
        waiters = cast(dict[str, str], redis.hgetall(keys.event_waiters(doc["key"])))
        _wake(engine, doc, _flat(waiters), recovering=True)
        subs_raw = cast(dict[str, str], redis.hgetall(keys.event_subscriptions))
        subs = {k: json.loads(v) for k, v in subs_raw.items()}
        filters = [json.loads(v) for v in cast(list[str], redis.hvals(keys.event_filters))]
        _trigger(engine.registry, [doc], subs, filters)
    return DONE


def _flat(mapping: dict[str, str]) -> list[str]:
    return [x for pair in mapping.items() for x in pair]


__all__ = ["EventIn", "key_matches", "push", "register_subscriptions", "to_event"]
