"""The timer pump: the one mechanism behind every delay (DESIGN §3).

``P:timers`` holds members ``<kind>|...`` (``_timer_entries.py``) scored by due time. A
pass of the pump:

1. claims the due entries (``claim_due.lua`` moves each to ``now + lease``, so whichever
   worker polls first has them, and a pump that dies leaves them due again later);
2. hands each to the handler its kind has in the table it was given
   (``timer_kinds.TIMER_KINDS``), decoded; a batched kind gets all its entries at once;
3. applies each handler's outcome, ``DONE`` (remove) or ``Rearm(at)``, with
   ``timer_settle.lua``, only while the entry is still as this pump claimed it.

Only the pump removes or re-arms an entry, and only after its handler returned, that is
after the handler's work is in Redis. A crash anywhere before that leaves the entry
claimed: it is due again after the lease and handled again, so every handler must be
idempotent. A handler that raises, or a batched handler that gives no outcome for an
entry, leaves it claimed the same way.

``faults`` is the seam of the crash-injection tests: called at each step of a pass with
the step's name (``"claimed"``: before the handler; ``"handled"``: its work done, its
outcome not yet applied) and the member; what it raises ends the pass there, as a
process dying at that point would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hatchet_celery._runtime.core.timer_outcome import (
    CLAIM_LEASE,
    DONE,
    Done,
    Outcome,
    Rearm,
    retry_later,
)
from hatchet_celery._timer_entries import TimerEntry, kind_of

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine

log = logging.getLogger(__name__)

BATCH = 200
E = TypeVar("E", bound=TimerEntry)


Handler = Callable[["Engine", E, float], Outcome]
# Gets every due entry of its kind claimed in one pass (a burst costs a few round trips
# per batch, not several per timer); an entry missing from the result stays claimed.
BatchHandler = Callable[["Engine", list[E], float], Mapping[E, Outcome]]
Faults = Callable[[str, str], None]


@dataclass(frozen=True)
class TimerKind(Generic[E]):
    """A row of the timer table: the entry type of a kind and its handler."""

    entry: type[E]
    handler: Handler[E] | None = None
    batch_handler: BatchHandler[E] | None = None

    @property
    def kind(self) -> str:
        return self.entry.kind


def single(entry: type[E], handler: Handler[E]) -> TimerKind[E]:
    return TimerKind(entry, handler=handler)


def batched(entry: type[E], handler: BatchHandler[E]) -> TimerKind[E]:
    return TimerKind(entry, batch_handler=handler)


TimerTable = Mapping[str, TimerKind[Any]]


def table(*kinds: TimerKind[Any]) -> dict[str, TimerKind[Any]]:
    """A timer table from its rows; a kind listed twice is an error."""
    out: dict[str, TimerKind[Any]] = {}
    for row in kinds:
        if row.kind in out:
            raise ValueError(f"timer kind {row.kind!r} listed twice")
        out[row.kind] = row
    return out


@dataclass(eq=False)
class TimerPump:
    """Claims due timers, runs their handlers, applies their outcomes."""

    engine: Engine
    kinds: TimerTable
    _: KW_ONLY
    lease: float = CLAIM_LEASE
    batch: int = BATCH
    faults: Faults | None = None

    def run_once(self, now: float) -> bool:
        """Handle the due timers; True when a full batch was due (poll again now)."""
        engine, lease = self.engine, self.lease
        members = engine.store.script("claim_due", [engine.keys.timers], [now, self.batch, lease])
        groups: dict[str, list[str]] = {}
        for member in members:
            groups.setdefault(kind_of(member), []).append(member)
        for kind, group in groups.items():
            row = self.kinds.get(kind)
            if row is None:
                log.error("hatchet_celery: no handler for timer kind %r (%s)", kind, group[0])
                continue
            outcomes = self._handle(row, group, now)
            self._step("handled", outcomes)
            if outcomes:
                args: list[Any] = [now, lease]
                for member, outcome in outcomes.items():
                    args += [member, outcome.at if isinstance(outcome, Rearm) else ""]
                engine.store.script("timer_settle", [engine.keys.timers], args)
        return len(members) >= self.batch

    def _step(self, step: str, members: Mapping[str, Any] | list[str]) -> None:
        if self.faults is not None:
            for member in members:
                self.faults(step, member)

    def _handle(self, row: TimerKind[Any], members: list[str], now: float) -> dict[str, Outcome]:
        entries: dict[TimerEntry, str] = {}
        for member in members:
            try:
                entries[row.entry.decode(member)] = member
            except ValueError:
                log.error("hatchet_celery: malformed timer %r", member)
        self._step("claimed", list(entries.values()))
        if row.batch_handler is not None:
            try:
                done = row.batch_handler(self.engine, list(entries), now)
            except Exception:
                log.exception(
                    "hatchet_celery: %d %r timers failed (retried later)", len(entries), row.kind
                )
                return {}
            return {entries[e]: outcome for e, outcome in done.items() if e in entries}
        assert row.handler is not None
        outcomes: dict[str, Outcome] = {}
        for entry, member in entries.items():
            try:
                outcomes[member] = row.handler(self.engine, entry, now)
            except Exception:
                log.exception("hatchet_celery: timer %r failed; it will be retried", member)
        return outcomes


__all__ = [
    "BATCH",
    "CLAIM_LEASE",
    "DONE",
    "BatchHandler",
    "Done",
    "Faults",
    "Handler",
    "Outcome",
    "Rearm",
    "TimerKind",
    "TimerPump",
    "TimerTable",
    "batched",
    "single",
    "retry_later",
    "table",
]
