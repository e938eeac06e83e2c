"""Scheduled runs on the shared timer mechanism, and declared crons registered by workers.

``wf.schedule(run_at)`` / ``hatchet.scheduled.create`` store one hash per scheduled run
and an ``s|<id>`` member in the timers sorted set, scored by the trigger time. Whichever
worker's pump claims the member when it is due creates the run. Nothing is held in a
Celery ETA message (the Redis transport would redeliver it after its visibility timeout)
and nothing lives in a process: a scheduled run survives restarts of every worker and
beat, and fires as soon as a worker is up if none was at its time.

Exactly once: ``sched_fire.lua`` records the run id before the run is created, and the
run is created under that id (``create_run`` is idempotent on it), so a pump that dies
half-way and is retried after the claim lease creates the same run, not a second one.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from hatchet_celery._runtime.core.timer_outcome import DONE, Outcome, Rearm, retry_later
from hatchet_celery._runtime.flow import pause
from hatchet_celery._runtime.timing import crons
from hatchet_celery._timer_entries import ScheduledFire
from hatchet_celery.clients.admin import TriggerWorkflowOptions, WorkflowRunTriggerConfig
from hatchet_celery.exceptions import WorkflowNotFoundError

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scheduled:
    """One scheduled run as stored in Redis (times are epoch seconds)."""

    id: str
    workflow_name: str
    trigger_at: float
    input: dict[str, Any]
    additional_metadata: dict[str, Any]
    priority: int | None
    created_at: float
    updated_at: float
    method: str = crons.API
    run_id: str | None = None
    fired_at: float | None = None

    @classmethod
    def from_hash(cls, fields: dict[str, str]) -> Scheduled:
        return cls(
            id=fields["id"],
            workflow_name=fields.get("wf", ""),
            trigger_at=float(fields["at"]),
            input=json.loads(fields.get("in") or "{}"),
            additional_metadata=json.loads(fields.get("md") or "{}"),
            priority=int(fields["pr"]) if fields.get("pr") else None,
            created_at=float(fields.get("ct") or 0),
            updated_at=float(fields.get("ut") or 0),
            method=fields.get("m") or crons.API,
            run_id=fields.get("run") or None,
            fired_at=float(fields["ft"]) if fields.get("ft") else None,
        )


def create(
    engine: Engine,
    workflow_name: str,
    trigger_at: float,
    input: dict[str, Any],
    additional_metadata: dict[str, Any],
    priority: int | None,
    now: float,
) -> Scheduled:
    scheduled_id = str(uuid.uuid4())
    keys = engine.keys
    fields = {
        "wf": workflow_name,
        "in": json.dumps(input),
        "md": json.dumps(additional_metadata),
        "pr": "" if priority is None else str(int(priority)),
        "m": crons.API,
    }
    args: list[Any] = [scheduled_id, trigger_at, now]
    for name, value in fields.items():
        args += [name, value]
    engine.store.script(
        "sched_create",
        [keys.scheduled(scheduled_id), keys.scheduled_index, keys.timers],
        args,
    )
    return Scheduled(
        scheduled_id, workflow_name, trigger_at, input, additional_metadata, priority, now, now
    )


def load_many(engine: Engine, ids: list[str]) -> list[Scheduled | None]:
    pipe = engine.store.redis.pipeline(transaction=False)
    for scheduled_id in ids:
        pipe.hgetall(engine.keys.scheduled(scheduled_id))
    return [Scheduled.from_hash(h) if h else None for h in pipe.execute()]


def load(engine: Engine, scheduled_id: str) -> Scheduled | None:
    return load_many(engine, [scheduled_id])[0]


def load_all(engine: Engine) -> list[Scheduled]:
    """Every stored scheduled run, oldest first; index entries of expired ones are pruned."""
    ids = cast(list[str], engine.store.redis.zrange(engine.keys.scheduled_index, 0, -1))
    found = load_many(engine, ids)
    gone = [i for i, s in zip(ids, found, strict=True) if s is None]
    if gone:
        engine.store.redis.zrem(engine.keys.scheduled_index, *gone)
    return [s for s in found if s is not None]


def update(engine: Engine, scheduled_id: str, trigger_at: float, now: float) -> int:
    """1 moved, 0 no such scheduled run, 2 it already fired (its run exists)."""
    keys = engine.keys
    return int(
        engine.store.script(
            "sched_update",
            [keys.scheduled(scheduled_id), keys.timers],
            [scheduled_id, trigger_at, now],
        )
    )


def delete(engine: Engine, scheduled_id: str) -> bool:
    keys = engine.keys
    return bool(
        engine.store.script(
            "sched_delete",
            [keys.scheduled(scheduled_id), keys.scheduled_index, keys.timers],
            [scheduled_id],
        )
    )


def fire_scheduled(engine: Engine, entry: ScheduledFire, now: float) -> Outcome:
    """A due ``s|<id>`` timer: create the scheduled run's run (once). Done when it exists
    or the scheduled run is gone; re-armed at its time when it was moved later."""
    keys = engine.keys
    sched_key = keys.scheduled(entry.key)
    res = engine.store.script("sched_fire", [sched_key], [now, str(uuid.uuid4())])
    if int(res[0]) == 0:
        return Rearm(float(res[1])) if len(res) > 1 else DONE
    run_id, workflow_name, payload, metadata, priority = res[1:6]
    item = WorkflowRunTriggerConfig(
        workflow_name=workflow_name,
        input=payload,
        options=TriggerWorkflowOptions(
            additional_metadata=json.loads(metadata),
            priority=int(priority) if priority else None,
        ),
    )
    try:
        namespaced = engine.registry.config.apply_namespace(workflow_name)
        if not pause.drops(engine, namespaced, "scheduled"):
            engine.registry.client().trigger_by_name(workflow_name, [item], run_ids=[run_id])
    except WorkflowNotFoundError as exc:
        # Offered again after a claim lease, until a worker that serves the workflow has
        # registered it.
        log.warning("hatchet_celery: scheduled run %s waits: %s", entry.key, exc)
        return retry_later(now)
    engine.store.script("sched_fired", [sched_key], [now, engine.config.retention_seconds])
    return DONE


def register_declared_crons(engine: Engine) -> None:
    """Worker start: record this process's ``on_crons`` so beats and ``cron.list`` see them."""
    crons.register_declared(engine, list(engine.registry.workflows.values()), engine.now())
