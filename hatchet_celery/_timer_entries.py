"""Timer entries: the members of ``P:timers``, one typed codec per kind.

A member is ``<kind>|<field>|...`` (scored by its due time); the kind names the handler
(``_runtime/timing/timer_kinds.py``). This module is the one place Python builds or reads a
member; the Lua scripts that arm or drop timers build the same strings (the script that
does it is named beside each class, and ``tests/test_timer_entries.py`` checks that each
one writes what ``encode`` gives). The last field takes the rest of the member, so a task
or group name holding ``|`` still reads back whole.

==========  =================================  ==========================================
kind        member                             armed by
==========  =================================  ==========================================
``d``       ``d|attempt|run|task``             a retry's backoff, an unpause, a lost worker
``w``       ``w|attempt|run|task``             every queued task run (watchdog, deadline)
``s``       ``s|scheduled_id``                 ``sched_create.lua``, ``sched_update.lua``
``wsl``     ``wsl|run|task|wait|cond|sleep``   ``cond_wait.lua`` (a sleep condition)
``wdx``     ``wdx|run|task``                   ``cond_decide.lua``, ``cond_satisfy.lua``
``wev``     ``wev|event_id``                   ``event_push.lua`` (push recovery)
``cs``      ``cs|gate``                        ``conc_acquire.lua`` (concurrency sweep)
``pz``      ``pz|workflow``                    ``pause_park.lua`` (paused queue TTL)
``rl``      ``rl|attempt|run|task``            ``rl_take.lua`` (reserved instant)
``rq``      ``rq|attempt|run|task``            ``rl_take.lua`` (static key not put yet)
``aw``      ``aw|attempt|run|task``            ``aff_park.lua`` (no eligible worker)
``dvc``     ``dvc|run|task``                   ``durable_evict.lua`` (awaited children)
``bf``      ``bf|workflow|task|group``         ``batch_flush.lua`` (batch interval)
==========  =================================  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

SEP = "|"
E = TypeVar("E", bound="TimerEntry")


@dataclass(frozen=True)
class TimerEntry:
    """One timer member, decoded. Subclasses set ``kind`` and declare the fields in order."""

    kind: ClassVar[str] = ""

    def encode(self) -> str:
        return SEP.join([self.kind, *(str(getattr(self, f.name)) for f in fields(self))])

    @property
    def member(self) -> str:
        return self.encode()

    @classmethod
    def decode(cls: type[E], member: str) -> E:
        names = [f for f in fields(cls)]
        kind, *parts = member.split(SEP, len(names))
        if kind != cls.kind or len(parts) != len(names):
            raise ValueError(f"not a {cls.kind!r} timer member: {member!r}")
        values: dict[str, Any] = {}
        for f, part in zip(names, parts, strict=True):
            values[f.name] = int(part) if f.type in ("int", int) else part
        return cls(**values)


@dataclass(frozen=True)
class TaskTimer(TimerEntry):
    """A timer of one attempt of a task run."""

    attempt: int
    run_id: str
    task: str


@dataclass(frozen=True)
class RetryDispatch(TaskTimer):
    """``d``: dispatch (through the gates) a task run whose retry backoff ended."""

    kind: ClassVar[str] = "d"


@dataclass(frozen=True)
class Watchdog(TaskTimer):
    """``w``: re-dispatch a task run still queued, or time it out at its deadline."""

    kind: ClassVar[str] = "w"


@dataclass(frozen=True)
class RateLimitWake(TaskTimer):
    """``rl``: the instant a parked task run reserved its rate-limit units for."""

    kind: ClassVar[str] = "rl"


@dataclass(frozen=True)
class RateLimitRetry(TaskTimer):
    """``rq``: try a parked task run's units again (a static key not put yet)."""

    kind: ClassVar[str] = "rq"


@dataclass(frozen=True)
class AffinityRetry(TaskTimer):
    """``aw``: route a task run parked for want of an eligible worker again."""

    kind: ClassVar[str] = "aw"


@dataclass(frozen=True)
class ScheduledFire(TimerEntry):
    """``s``: create the run of a scheduled run."""

    kind: ClassVar[str] = "s"
    scheduled_id: str


@dataclass(frozen=True)
class SleepDue(TimerEntry):
    """``wsl``: a sleep condition of a wait is met (``sleep`` is its rendered duration)."""

    kind: ClassVar[str] = "wsl"
    run_id: str
    task: str
    wait_id: str
    cond_id: str
    sleep: str

    @classmethod
    def decode(cls, member: str) -> SleepDue:
        # the task name sits between fields that never hold "|": read it from both ends
        kind, _, rest = member.partition(SEP)
        run_id, _, rest = rest.partition(SEP)
        parts = rest.rsplit(SEP, 3)
        if kind != cls.kind or len(parts) != 4:
            raise ValueError(f"not a {cls.kind!r} timer member: {member!r}")
        return cls(run_id, *parts)


@dataclass(frozen=True)
class DecisionRecovery(TimerEntry):
    """``wdx``: carry out a conditions decision whose deciding process died."""

    kind: ClassVar[str] = "wdx"
    run_id: str
    task: str


@dataclass(frozen=True)
class EventRecovery(TimerEntry):
    """``wev``: finish an event push (wake waits, trigger runs) whose pusher died."""

    kind: ClassVar[str] = "wev"
    event_id: str


@dataclass(frozen=True)
class ConcurrencySweep(TimerEntry):
    """``cs``: release lost holders and wake lost waiters of one concurrency gate."""

    kind: ClassVar[str] = "cs"
    gate: str


@dataclass(frozen=True)
class PauseExpiry(TimerEntry):
    """``pz``: cancel the task runs a paused workflow held past its queue TTL."""

    kind: ClassVar[str] = "pz"
    workflow: str


@dataclass(frozen=True)
class ChildWatch(TimerEntry):
    """``dvc``: an evicted durable task run awaiting child runs."""

    kind: ClassVar[str] = "dvc"
    run_id: str
    task: str


@dataclass(frozen=True)
class BatchFlush(TimerEntry):
    """``bf``: a batch buffer's interval has passed."""

    kind: ClassVar[str] = "bf"
    workflow: str
    task: str
    group: str


ENTRY_TYPES: tuple[type[TimerEntry], ...] = (
    RetryDispatch,
    Watchdog,
    ScheduledFire,
    SleepDue,
    DecisionRecovery,
    EventRecovery,
    ConcurrencySweep,
    PauseExpiry,
    RateLimitWake,
    RateLimitRetry,
    AffinityRetry,
    ChildWatch,
    BatchFlush,
)
BY_KIND: dict[str, type[TimerEntry]] = {t.kind: t for t in ENTRY_TYPES}


def kind_of(member: str) -> str:
    """The kind of a member (its text before the first ``|``)."""
    return member.partition(SEP)[0]


def decode(member: str) -> TimerEntry:
    """The typed entry of any known kind; ``ValueError`` for an unknown kind or shape."""
    entry_type = BY_KIND.get(kind_of(member))
    if entry_type is None:
        raise ValueError(f"unknown timer kind in {member!r}")
    return entry_type.decode(member)


__all__ = [
    "BY_KIND",
    "ENTRY_TYPES",
    "AffinityRetry",
    "BatchFlush",
    "ChildWatch",
    "ConcurrencySweep",
    "DecisionRecovery",
    "EventRecovery",
    "PauseExpiry",
    "RateLimitRetry",
    "RateLimitWake",
    "RetryDispatch",
    "ScheduledFire",
    "SleepDue",
    "TaskTimer",
    "TimerEntry",
    "Watchdog",
    "decode",
    "kind_of",
]
