"""The timer table: every timer kind and the handler the pump gives its entries.

Written once, here; nothing registers a kind at import. ``WorkerServices`` builds its
``TimerPump`` from ``TIMER_KINDS`` (a test may build one from another table).

The contract of a handler (``timers.py``): do the work, then return ``DONE`` or
``Rearm(at)`` (a batched handler: one per entry); the pump removes or re-scores the entry
afterwards, and only while it is still as the pump claimed it. A crash before that leaves
it claimed, due again after the claim lease, so each handler is idempotent: run twice it
does the work once (claim tokens and expected statuses fence every transition; run and
event ids are recorded before the run is created).

Some scripts drop or move the entry themselves in the very step that acts on it, which
is as safe (nothing can die between the two) and is kept: ``timer_fire`` turns a ``d``
entry into the task run's ``w`` watchdog; ``rl_wake`` and ``aff_wake`` drop ``rl`` /
``aw`` as they wake the task run; ``cond_satisfy`` drops the ``wsl`` sleeps of the wait
it meets; ``durable_restore`` drops ``dvc``; ``pause_expire`` re-arms or drops ``pz``
with the parked set it reads; ``batch_flush`` re-arms or drops ``bf`` with its buffer.
Their handlers return ``DONE`` (or ``retry_later``), which the pump then finds changed
and leaves alone.

A new kind: a member codec in ``_timer_entries.py`` (and the same string in the Lua
script that arms it, if one does), a handler beside the feature it serves, and a row
below.
"""

from __future__ import annotations

from hatchet_celery._runtime.flow import affinity, batch, concurrency, conditions, pause, ratelimits
from hatchet_celery._runtime.timing import schedules, task_timers
from hatchet_celery._runtime.timing.timers import TimerTable, batched, single, table
from hatchet_celery._runtime.waits import events
from hatchet_celery._runtime.waits import restore as durable_restore
from hatchet_celery._runtime.waits import store as waits
from hatchet_celery._timer_entries import (
    AffinityRetry,
    BatchFlush,
    ChildWatch,
    ConcurrencySweep,
    DecisionRecovery,
    EventRecovery,
    PauseExpiry,
    RateLimitRetry,
    RateLimitWake,
    RetryDispatch,
    ScheduledFire,
    SleepDue,
    Watchdog,
)

TIMER_KINDS: TimerTable = table(
    single(RetryDispatch, task_timers.fire_task_timer),
    single(Watchdog, task_timers.fire_task_timer),
    single(ScheduledFire, schedules.fire_scheduled),
    batched(SleepDue, waits.fire_sleeps),
    single(DecisionRecovery, conditions.recover_decision),
    single(EventRecovery, events.recover_event),
    single(ConcurrencySweep, concurrency.sweep),
    single(PauseExpiry, pause.expire_parked),
    single(RateLimitWake, ratelimits.wake),
    single(RateLimitRetry, ratelimits.retry),
    single(AffinityRetry, affinity.retry_route),
    batched(ChildWatch, durable_restore.watch_children),
    single(BatchFlush, batch.flush_due),
)

__all__ = ["TIMER_KINDS"]
