"""Cron triggers in Redis, and the part of a beat that fires them.

Every cron lives in one Redis hash, whether declared (``on_crons``, registered by each
worker and beat at start, ``method=DEFAULT``) or created at run time through
``hatchet.cron`` (``method=API``). A beat therefore needs neither a restart nor the
task code to see a new cron: it polls one counter each second and reloads the hash only
when the counter moved.

Exactly once: a tick's run has an id derived from the cron and the tick
(``tick_run_id``), and creating a run whose id exists creates nothing. ``cron_fire.lua``
records the ticks fired per cron, tells the first beat to fire a tick from the others,
and refuses ticks older than its window. Every beat that sees a tick due creates its run,
so two beats, or a beat restarted in the middle of a minute, give each tick one run; a
beat killed between claiming a tick and creating its run loses nothing while another
beat runs. As in Hatchet, ticks that passed while no beat ran are not back-filled (a beat
only looks at ticks after it started looking).

``CronTicker.tick(now)`` takes the time as an argument, so tests drive it with literal
instants; ``hatchet_celery.beat`` calls it from Celery beat's loop.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from hatchet_celery._cron import (
    CronSpec,
    next_tick,
    parse_cron,
    tick_id,
    tick_rfc3339,
    ticks_between,
)
from hatchet_celery._runtime.flow import pause
from hatchet_celery.clients.admin import TriggerWorkflowOptions, WorkflowRunTriggerConfig

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.runnables.workflow import BaseWorkflow

log = logging.getLogger(__name__)

DEFAULT = "DEFAULT"
API = "API"
# How often a beat asks whether crons were created or deleted (one GET).
RELOAD_EVERY = 1.0
# A beat that stalled (or lost a tick to another beat's race) fires the ticks it missed
# within this many seconds; a tick fires once whichever beat claims it.
CATCH_UP_SECONDS = 60.0


def workflow_id(workflow_name: str) -> str:
    """The id a workflow is known by in REST shapes: its namespaced name (``wf.id``)."""
    return workflow_name


def tenant_id(namespace: str) -> str:
    """One fixed tenant per namespace; the same derivation as ``Hatchet.tenant_id``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hatchet-celery:{namespace}"))


@dataclass(frozen=True)
class Cron:
    """One cron trigger as stored in Redis (times are epoch seconds)."""

    id: str
    workflow_name: str
    cron: str
    name: str | None
    input: dict[str, Any]
    additional_metadata: dict[str, Any]
    priority: int | None
    method: str
    created_at: float
    updated_at: float
    enabled: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Cron:
        return cls(**json.loads(text))

    @property
    def spec(self) -> CronSpec:
        return parse_cron(self.cron, what=f"cron {self.id!r} of workflow {self.workflow_name!r}")

    def same_trigger(self, other: Cron) -> bool:
        """Equal but for the timestamps (a re-registration that changes nothing)."""
        return replace(self, created_at=0, updated_at=0) == replace(
            other, created_at=0, updated_at=0
        )


def unique_field(workflow_name: str, name: str | None, expression: str) -> str:
    """The uniqueness entry of an API cron; ``cron_delete.lua`` builds the same string."""
    return f"{workflow_name}\x1f{name}\x1f{expression}"


# --- the store -------------------------------------------------------------------------------
def declared_crons(workflow: BaseWorkflow[Any], now: float) -> list[Cron]:
    """The ``on_crons`` of a workflow as records; ids derive from workflow and expression."""
    if not workflow.config.on_crons:
        return []
    cron_input = workflow.cron_input
    payload = workflow._dump_input(cron_input) if cron_input is not None else {}
    return [
        Cron(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"hatchet-celery:cron:{workflow.name}:{expr}")),
            workflow_name=workflow.name,
            cron=expr,
            name=None,
            input=payload if isinstance(payload, dict) else {},
            additional_metadata={},
            priority=None,
            method=DEFAULT,
            created_at=now,
            updated_at=now,
        )
        for expr in dict.fromkeys(workflow.config.on_crons)
    ]


def register_declared(engine: Engine, workflows: Iterable[BaseWorkflow[Any]], now: float) -> int:
    """Replace each workflow's declared crons in Redis; returns how many changed.

    A record that would not change keeps its stored text, timestamps included, so a
    fleet of workers starting together changes nothing after the first of them.
    """
    keys = engine.keys
    changed = 0
    for workflow in workflows:
        fresh = declared_crons(workflow, now)
        stored: list[str | None] = (
            cast(list[str | None], engine.store.redis.hmget(keys.crons, [c.id for c in fresh]))
            if fresh
            else []
        )
        args: list[Any] = [workflow.name]
        for cron, old_text in zip(fresh, stored, strict=True):
            old = Cron.from_json(old_text) if old_text else None
            if old is not None and old.same_trigger(cron):
                args += [cron.id, old_text]
            else:
                if old is not None:
                    cron = replace(cron, created_at=old.created_at)
                args += [cron.id, cron.to_json()]
        changed += int(
            engine.store.script(
                "cron_register",
                [keys.crons, keys.crons_declared, keys.crons_version, keys.cron_fired],
                args,
            )
        )
    return changed


def load_all(engine: Engine) -> list[Cron]:
    raw = cast(dict[str, str], engine.store.redis.hgetall(engine.keys.crons))
    return [Cron.from_json(text) for text in raw.values()]


def load(engine: Engine, cron_id: str) -> Cron | None:
    text = cast(str | None, engine.store.redis.hget(engine.keys.crons, cron_id))
    return Cron.from_json(text) if text else None


def create(engine: Engine, cron: Cron) -> tuple[bool, str]:
    """Store an API cron; returns (created, id) — the existing id when the pair is taken."""
    keys = engine.keys
    res = engine.store.script(
        "cron_create",
        [keys.crons, keys.cron_names, keys.crons_version],
        [cron.id, unique_field(cron.workflow_name, cron.name, cron.cron), cron.to_json()],
    )
    return (True, cron.id) if int(res[0]) == 1 else (False, str(res[1]))


def delete(engine: Engine, cron_id: str) -> bool:
    keys = engine.keys
    res = engine.store.script(
        "cron_delete",
        [keys.crons, keys.cron_names, keys.crons_version, keys.cron_fired],
        [cron_id],
    )
    return bool(res)


def delete_workflow_crons(engine: Engine, workflow_name: str) -> int:
    """Delete every cron of a workflow (for ``hatchet.workflows.delete``)."""
    gone = [c.id for c in load_all(engine) if c.workflow_name == workflow_name]
    engine.store.redis.hdel(engine.keys.crons_declared, workflow_name)
    return sum(delete(engine, cron_id) for cron_id in gone)


# --- firing ------------------------------------------------------------------------------------
def tick_run_id(namespace: str, cron_id: str, tick: datetime) -> str:
    """The run id of one tick of one cron: every beat firing that tick names the same run."""
    return str(
        uuid.uuid5(
            uuid.NAMESPACE_URL, f"hatchet-celery:{namespace}:cron:{cron_id}:{tick.timestamp():.0f}"
        )
    )


def trigger(
    registry: Registry, cron: Cron, scheduled_at: datetime, run_id: str | None = None
) -> str:
    """Create the run of one tick (or of a manual trigger) with Hatchet's cron metadata;
    with ``run_id``, nothing is created when that run exists already."""
    metadata = {
        **cron.additional_metadata,
        "hatchet__cron_expression": cron.cron,
        "hatchet__cron_scheduled_at": tick_rfc3339(scheduled_at),
    }
    if cron.name:
        metadata["hatchet__cron_name"] = cron.name
    item = WorkflowRunTriggerConfig(
        workflow_name=cron.workflow_name,
        input=json.dumps(cron.input),
        options=TriggerWorkflowOptions(additional_metadata=metadata, priority=cron.priority),
    )
    run_ids = [run_id] if run_id is not None else None
    return registry.client().trigger_by_name(cron.workflow_name, [item], run_ids)[0]


def claim_tick(
    engine: Engine, cron_id: str, spec: CronSpec, tick: datetime
) -> tuple[Cron, bool] | None:
    """The current record, and whether this caller is the first to fire ``tick``; None
    when the cron is gone or the tick is too old to fire."""
    keys = engine.keys
    res = engine.store.script(
        "cron_fire",
        [keys.crons, keys.cron_fired, keys.cron_recent(cron_id)],
        [cron_id, tick_id(spec, tick), int(CATCH_UP_SECONDS)],
    )
    if not res:
        return None
    return Cron.from_json(res[0]), int(res[1]) == 1


@dataclass
class _Entry:
    cron: Cron
    text: str
    spec: CronSpec
    last_checked: datetime
    next_at: float = field(default=0.0)


class CronTicker:
    """The cron half of one beat, for one registry: load crons, find due ticks, fire them.

    Declared crons of the workflows imported in this process are registered on the first
    tick (the beat imports the user's module, as ``celery -A proj beat`` does).
    """

    def __init__(self, registry: Registry, reload_every: float = RELOAD_EVERY) -> None:
        self.registry = registry
        self.reload_every = reload_every
        self.entries: dict[str, _Entry] = {}
        self.fired = 0
        self._version: str | None = None
        self._next_reload = 0.0
        self._registered = False

    @property
    def engine(self) -> Engine:
        return self.registry.engine()

    def tick(self, now: float) -> float:
        """Fire what is due at ``now``; returns the seconds until it has work again."""
        if not self._registered:
            register_declared(self.engine, list(self.registry.workflows.values()), now)
            self._registered = True
        if now >= self._next_reload:
            self.reload(now)
            self._next_reload = now + self.reload_every
        current = datetime.fromtimestamp(now, UTC)
        for entry in list(self.entries.values()):
            if now < entry.next_at:
                continue
            # Every tick since this beat last looked (a stalled beat catches up, within
            # CATCH_UP_SECONDS); ticks from before the beat started are not back-filled.
            since = max(entry.last_checked, current - timedelta(seconds=CATCH_UP_SECONDS))
            ticks = ticks_between(entry.spec, since, current)
            entry.last_checked = current
            entry.next_at = next_tick(entry.spec, current).timestamp()
            if entry.cron.enabled:
                for tick in ticks:
                    self.fire(entry, tick)
        wake = min([e.next_at for e in self.entries.values()] + [self._next_reload])
        return max(wake - now, 0.0)

    def reload(self, now: float) -> None:
        """Pick up created, changed and deleted crons (only when the version moved)."""
        engine = self.engine
        version = cast(str | None, engine.store.redis.get(engine.keys.crons_version)) or "0"
        if version == self._version:
            return
        raw = cast(dict[str, str], engine.store.redis.hgetall(engine.keys.crons))
        started = datetime.fromtimestamp(now, UTC)
        entries: dict[str, _Entry] = {}
        for cron_id, text in raw.items():
            old = self.entries.get(cron_id)
            if old is not None and old.text == text:
                entries[cron_id] = old
                continue
            try:
                cron = Cron.from_json(text)
                spec = cron.spec
            except (ValueError, TypeError, KeyError):
                log.exception("hatchet_celery beat: skipping unreadable cron %s", cron_id)
                continue
            # A new or changed cron starts looking now: nothing before is back-filled.
            entry = _Entry(cron, text, spec, started)
            entry.next_at = next_tick(spec, started).timestamp()
            entries[cron_id] = entry
        if set(entries) != set(self.entries):
            log.info("hatchet_celery beat: %d cron(s) loaded", len(entries))
        self.entries = entries
        self._version = version

    def fire(self, entry: _Entry, tick: datetime) -> str | None:
        """Claim ``tick`` and create its run; None when another beat had it."""
        cron = entry.cron
        try:
            claimed = claim_tick(self.engine, cron.id, entry.spec, tick)
            if claimed is None:
                return None
            current, first = claimed
            workflow = self.registry.config.apply_namespace(current.workflow_name)
            if pause.drops(self.engine, workflow, "cron"):
                return None
            namespace = self.registry.config.namespace
            run_id = trigger(self.registry, current, tick, tick_run_id(namespace, cron.id, tick))
            if not first:
                return None  # the first beat's run (created again here only if it had died)
        except Exception:
            log.exception(
                "hatchet_celery beat: cron %r (%s) of workflow %r failed to fire at %s",
                cron.name or cron.id,
                cron.cron,
                cron.workflow_name,
                tick_rfc3339(tick),
            )
            return None
        self.fired += 1
        log.info(
            "hatchet_celery beat: cron %s of %s fired for %s: run %s",
            cron.cron,
            cron.workflow_name,
            tick_rfc3339(tick),
            run_id,
        )
        return run_id
