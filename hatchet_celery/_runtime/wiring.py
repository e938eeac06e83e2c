"""The composition root of the runtime: every gate and listener, written once, in order.

The engine of a registry is built with ``EXTENSIONS``; no module registers anything when
it is imported. To add a gate or a listener, write it in its capability module and list
it here, where its position is its order:

- gates, in the order a ready task run passes them: its conditions are met first; a
  paused workflow holds it before it takes anything; a concurrency slot (whole run, then
  task) is taken before rate-limit tokens, so a run waiting for a slot holds no tokens;
  a batch member is parked only once admitted; affinity routes last, what every other
  gate let through, to a worker that can take it.
- the timer kinds: ``timing/timer_kinds.TIMER_KINDS`` (one row per kind: its entry type
  and handler), handed here to the engine, whose worker pump is built with it.
"""

from __future__ import annotations

from hatchet_celery._runtime.core.hooks import Extensions
from hatchet_celery._runtime.flow import affinity, batch, concurrency, conditions, pause, ratelimits
from hatchet_celery._runtime.timing import deadlines, schedules
from hatchet_celery._runtime.timing.timer_kinds import TIMER_KINDS
from hatchet_celery._runtime.waits import durable as durable_waits
from hatchet_celery._runtime.waits import events

EXTENSIONS = Extensions(
    gates=(
        conditions.GATE,
        pause.GATE,
        concurrency.WORKFLOW_GATE,
        concurrency.TASK_GATE,
        ratelimits.GATE,
        batch.GATE,
        affinity.GATE,
    ),
    task_finished=(concurrency.on_task_finished,),
    run_finished=(concurrency.on_run_finished,),
    worker_started=(
        affinity.consume_own_queue,
        events.register_subscriptions,
        schedules.register_declared_crons,
    ),
    worker_stopping=(durable_waits.evict_all_waiting, affinity.delete_own_queue),
    trigger_checks=(ratelimits.check_trigger,),
    runs_created=(affinity.on_runs_created,),
    beat_ticks=(deadlines.sweep_due,),
    undeclared_timeouts=(deadlines.expire_undeclared,),
    wait_sweeps=(deadlines.sweep,),
    timer_kinds=TIMER_KINDS,
    durable_wakeups=(durable_waits.deliver,),
    condition_decisions=(conditions.carry_out_resolution,),
)
