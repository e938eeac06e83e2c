"""Timer entries: the members of ``P:timers``, and their one codec.

A member is ``<kind>|<field>|...`` (scored by its due time); the kind names the handler
(``_runtime/timing/timer_kinds.py``). ``TimerEntry.encode`` / ``decode`` read the fields
of a layout (``TaskTimer``, ``TaskRunTimer``, ``KeyTimer``, or a kind's own); each kind is a
typed subclass of its layout, so a handler's signature says which kind it takes. This
module is the one place Python builds or reads a member; the Lua scripts that arm or drop
timers build the same strings (the script that does it is named in the table below, and
``tests/test_timer_entries.py`` checks that each one writes what ``encode`` gives). The
last field takes the rest of the member, so a task or group name holding ``|`` still
reads back whole. In the table, the ``key`` of a ``KeyTimer`` kind is named for what it
holds.

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
    """One timer member, decoded.

    A layout (a subclass with fields) declares the fields in order; a kind is a subclass
    of its layout naming its ``kind`` as a class keyword: ``class X(TaskTimer, kind="x")``.
    """

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, kind: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kind:
            cls.kind = kind

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


# --- layouts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskTimer(TimerEntry):
    """A timer of one attempt of a task run."""

    attempt: int
    run_id: str
    task: str


@dataclass(frozen=True)
class TaskRunTimer(TimerEntry):
    """A timer of a task run, whatever its attempt."""

    run_id: str
    task: str


@dataclass(frozen=True)
class KeyTimer(TimerEntry):
    """A timer of one named thing; its kind says what ``key`` names."""

    key: str


@dataclass(frozen=True)
class SleepDue(TimerEntry, kind="wsl"):
    """``wsl``: a sleep condition of a wait is met (``sleep`` is its rendered duration)."""

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
class BatchFlush(TimerEntry, kind="bf"):
    """``bf``: a batch buffer's interval has passed."""

    workflow: str
    task: str
    group: str


# --- the kinds of the shared layouts --------------------------------------------------------


class RetryDispatch(TaskTimer, kind="d"):
    """``d``: dispatch (through the gates) a task run whose retry backoff ended."""


class Watchdog(TaskTimer, kind="w"):
    """``w``: re-dispatch a task run still queued, or time it out at its deadline."""


class RateLimitWake(TaskTimer, kind="rl"):
    """``rl``: the instant a parked task run reserved its rate-limit units for."""


class RateLimitRetry(TaskTimer, kind="rq"):
    """``rq``: try a parked task run's units again (a static key not put yet)."""


class AffinityRetry(TaskTimer, kind="aw"):
    """``aw``: route a task run parked for want of an eligible worker again."""


class DecisionRecovery(TaskRunTimer, kind="wdx"):
    """``wdx``: carry out a conditions decision whose deciding process died."""


class ChildWatch(TaskRunTimer, kind="dvc"):
    """``dvc``: an evicted durable task run awaiting child runs."""


class ScheduledFire(KeyTimer, kind="s"):
    """``s``: create the run of a scheduled run (``key``: its id)."""


class EventRecovery(KeyTimer, kind="wev"):
    """``wev``: finish an event push whose pusher died (``key``: the event id)."""


class ConcurrencySweep(KeyTimer, kind="cs"):
    """``cs``: release lost holders and wake lost waiters of one concurrency gate (``key``)."""


class PauseExpiry(KeyTimer, kind="pz"):
    """``pz``: cancel the task runs a paused workflow (``key``) held past its queue TTL."""


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
    "KeyTimer",
    "PauseExpiry",
    "RateLimitRetry",
    "RateLimitWake",
    "RetryDispatch",
    "ScheduledFire",
    "SleepDue",
    "TaskRunTimer",
    "TaskTimer",
    "TimerEntry",
    "Watchdog",
    "decode",
    "kind_of",
]
