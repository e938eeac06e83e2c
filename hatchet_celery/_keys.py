"""The Redis key layout: the only module that formats a key name.

Everything lives under ``<prefix>:<namespace>`` so the package can share a Redis with an
existing deployment, and two namespaces on one Redis never see each other's state.

Layout (``P`` = ``<prefix>:<namespace>``):

===================================  ======  ==============================================
key                                  type    holds
===================================  ======  ==============================================
``P:run:<run_id>``                   hash    one workflow run: run fields and, per task,
                                             ``<f>:<task>`` fields (status, attempt, claim,
                                             ids, times, output, error, fan-in counter)
``P:runs``                           zset    run ids by creation time (listing, retention)
``P:timers``                         zset    JSON timer entries by due time (one mechanism
                                             for retries, redispatch, sleeps, schedules)
``P:leases``                         zset    ``run|task|claim`` of running tasks by expiry
``P:done``                           channel run ids published when a run finishes
``P:logs:<task_run_id>``             list    ``ctx.log`` lines
``P:workflows``                      hash    workflow name -> shape JSON (registered by
                                             workers, read by processes without the code)
``P:workers``                        hash    worker id -> worker JSON (heartbeats)
``P:crons`` (``:names :declared      hash    cron records; uniqueness, declared ids per
:version :fired``)                           workflow, change counter, last tick fired
``P:sched:<id>``, ``P:scheds``       hash,   one scheduled run; ids by creation time
                                     zset
``P:ix:status``                      zset    run ids scored ``rank * 1e13 + created ms``
                                             (one status window per rank; runs listing)
``P:ix:<kind>:<value>``              zset    run ids by creation time per workflow (wf),
                                             metadata pair (md) or parent run/task (parent)
``P:ix:keys``                        set     the ``P:ix:<kind>:<value>`` keys (retention)
``P:truns``                          hash    task run id -> ``run_id|task``
``P:stream:<run_id>``                list    ``put_stream`` chunks in order
``P:stream:<run_id>:new``            channel index of each chunk pushed (subscribers wake)
``P:conc:<gate>`` (``:q :h``)        hash,   one concurrency gate: counts, maxima, holders
                                     zsets   and waiters; waiters and holders per key
``P:rl:<key>``, ``P:rl:keys``        hash,   one rate-limit bucket; keys for listing
                                     zset
``P:paused``, ``P:paused:<workflow>``  hash,   paused workflows -> pause settings JSON;
                                     zset    the task runs each one parks, by queued time
``P:idem:<key>``                     string  ``<run_id>|<TTL|STATUS>``: the run holding an
                                             idempotency key (expires with the key's TTL)
``P:webhooks``                       hash    incoming webhook name -> webhook JSON
``P:bq:<wf>:<task>:<group>``          list,   members waiting for a batch; their input
(``P:bqb:...``), ``P:batch:<id>``    string, bytes; the members of a flushed batch
                                     list
===================================  ======  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str
    namespace: str

    @property
    def base(self) -> str:
        ns = self.namespace.rstrip("_") or "default"
        return f"{self.prefix}:{ns}"

    def run(self, run_id: str) -> str:
        return f"{self.base}:run:{run_id}"

    @property
    def runs(self) -> str:
        return f"{self.base}:runs"

    @property
    def timers(self) -> str:
        return f"{self.base}:timers"

    @property
    def leases(self) -> str:
        return f"{self.base}:leases"

    @property
    def done_channel(self) -> str:
        return f"{self.base}:done"

    def logs(self, task_run_id: str) -> str:
        return f"{self.base}:logs:{task_run_id}"

    @property
    def workflows(self) -> str:
        return f"{self.base}:workflows"

    @property
    def workers(self) -> str:
        return f"{self.base}:workers"

    @property
    def run_prefix(self) -> str:
        """Prefix handed to Lua scripts that must address runs named inside a message."""
        return f"{self.base}:run:"

    # --- crons and scheduled runs (hatchet_celery/_runtime/timing/crons.py, schedules.py) ---------
    @property
    def crons(self) -> str:
        """hash: cron id -> cron record JSON (declared ``on_crons`` and API-created)."""
        return f"{self.base}:crons"

    @property
    def cron_names(self) -> str:
        """hash: ``workflow<US>name<US>expression`` -> cron id (API crons are unique so)."""
        return f"{self.base}:crons:names"

    @property
    def crons_declared(self) -> str:
        """hash: workflow name -> JSON list of the ids of its declared crons."""
        return f"{self.base}:crons:declared"

    @property
    def crons_version(self) -> str:
        """string: bumped on every change to ``crons``, so beats reload only on change."""
        return f"{self.base}:crons:version"

    @property
    def cron_fired(self) -> str:
        """hash: cron id -> epoch second of the latest tick fired (the fire high-water mark)."""
        return f"{self.base}:crons:fired"

    def cron_recent(self, cron_id: str) -> str:
        """zset: the ticks of one cron fired within the catch-up window (exactly-once set)."""
        return f"{self.base}:crons:recent:{cron_id}"

    def scheduled(self, scheduled_id: str) -> str:
        """hash: one scheduled run (workflow, trigger time, input, metadata, run once fired)."""
        return f"{self.base}:sched:{scheduled_id}"

    @property
    def scheduled_index(self) -> str:
        """zset: scheduled run ids by creation time (listing)."""
        return f"{self.base}:scheds"

    # --- runs listing, task run lookup, streams (hatchet_celery/_runtime/ops/run_index.py) -----
    @property
    def status_index(self) -> str:
        """zset: run ids scored ``rank * 1e13 + created ms`` (see ``run_index.STATUS_RANK``)."""
        return f"{self.base}:ix:status"

    def index(self, kind: str, value: str) -> str:
        """zset: run ids by creation time that share a workflow, metadata pair or parent."""
        return f"{self.base}:ix:{kind}:{value}"

    @property
    def index_registry(self) -> str:
        """set: every ``index()`` key written, so retention can trim them."""
        return f"{self.base}:ix:keys"

    @property
    def task_runs(self) -> str:
        """hash: task run id -> ``run_id|task`` (cancel, replay, get by task run id)."""
        return f"{self.base}:truns"

    def stream(self, run_id: str) -> str:
        """list: the ``put_stream`` chunks of a run, in order."""
        return f"{self.base}:stream:{run_id}"

    def stream_channel(self, run_id: str) -> str:
        """channel: the index of every chunk pushed to ``stream(run_id)``."""
        return f"{self.base}:stream:{run_id}:new"

    # --- waits and events (_runtime/waits/store.py, conditions.py, durable_waits.py, events.py) --
    # Run-hash fields of waits (see waits.py): ``cw:<task>`` active wait spec,
    # ``cv:<task>:<cid>`` satisfied condition data, ``cd:<task>`` decided condition action,
    # ``cp:<task>:<node>`` durable checkpoint, ``cm:<task>:<memo key>`` durable memo.
    # Durable eviction and branches (durable_restore.py): ``ct:<task>:<node>`` when the
    # wait of a node first began, ``ic:<task>`` invocation count, ``ev:<task>`` the claim
    # a task run was evicted under (``er`` reason, ``ew`` awaited child runs, timer
    # ``dvc|<run>|<task>``), ``db:<task>`` / ``dbn:<task>`` current / last branch,
    # ``cpb:<task>:<branch>`` archived checkpoints of a branch.
    @property
    def event_data(self) -> str:
        """hash: event id -> event JSON (key, payload, metadata, scope, ts, runs)."""
        return f"{self.base}:ev:data"

    @property
    def events(self) -> str:
        """zset: event ids by push time (listing, retention)."""
        return f"{self.base}:ev:all"

    def events_by_key(self, event_key: str) -> str:
        """zset: ids of the events pushed with one (namespaced) key, by push time (lookback)."""
        return f"{self.base}:ev:key:{event_key}"

    def event_waiters(self, event_key: str) -> str:
        """hash: ``run|task|wait|cond`` -> waiter JSON, the waits an event key may satisfy."""
        return f"{self.base}:ev:wait:{event_key}"

    @property
    def event_subscriptions(self) -> str:
        """hash: workflow name -> JSON ``{on_events, tasks}`` (written by workers)."""
        return f"{self.base}:ev:subs"

    @property
    def event_filters(self) -> str:
        """hash: filter id -> filter JSON (API-created and declarative ``default_filters``)."""
        return f"{self.base}:ev:filters"

    @property
    def webhooks(self) -> str:
        """hash: incoming webhook name -> webhook JSON (its create request and times)."""
        return f"{self.base}:webhooks"

    # --- flow control (_runtime/flow/concurrency.py, ratelimits.py, affinity.py) ---------------
    # Run-hash fields of flow control: ``aff`` run-level desired worker labels (JSON),
    # ``sw`` the run's sticky worker id; waiting statuses WAIT_CONCURRENCY,
    # WAIT_RATE_LIMIT, WAIT_WORKER.
    def conc_state(self, gate: str) -> str:
        """hash: one concurrency gate: counts and maxima per key, holder and waiter records."""
        return f"{self.base}:conc:{gate}"

    def conc_queue(self, gate: str) -> str:
        """zset (lex): waiters of a gate per expression and key, oldest first."""
        return f"{self.base}:conc:{gate}:q"

    def conc_held(self, gate: str) -> str:
        """zset (lex): holders of a gate per expression and key, oldest first."""
        return f"{self.base}:conc:{gate}:h"

    @property
    def affinity_used(self) -> str:
        """string: set once a run carried trigger-time labels or a sticky worker (routing
        reads run options only from then on)."""
        return f"{self.base}:aff:used"

    def rate_limit(self, key: str) -> str:
        """hash: one rate-limit bucket: limit, window, current window and units left, pause."""
        return f"{self.base}:rl:{key}"

    @property
    def rate_limits(self) -> str:
        """zset: rate-limit keys by last change (listing)."""
        return f"{self.base}:rl:keys"

    # --- idempotency keys (_runtime/core/idempotency.py, create_run.lua) -------------------------
    def idempotency(self, key: str) -> str:
        """string: ``<run_id>|<method>`` of the run that holds an idempotency key; it expires
        after the key's TTL (the fallback TTL for status-based keys)."""
        return f"{self.base}:idem:{key}"

    # --- workflow pause (_runtime/flow/pause.py) --------------------------------------------------
    @property
    def paused(self) -> str:
        """hash: paused workflow name -> JSON ``{ttl, cron, scheduled}`` (its pause settings)."""
        return f"{self.base}:paused"

    def paused_tasks(self, workflow: str) -> str:
        """zset: ``run_id|task|attempt`` of the task runs a paused workflow parked, scored by
        the time each was queued (cancelled once older than the queue TTL)."""
        return f"{self.base}:paused:{workflow}"

    # --- batch tasks (_runtime/flow/batch.py) --------------------------------------------
    # Run-hash field ``bt:<task>``: ``<batch_id>|<attempt>`` of a member taken into a batch.
    def batch_buffer(self, workflow: str, task: str, group: str) -> str:
        """list: ``run_id|attempt|bytes`` of the members waiting for a batch of ``task``
        in group ``group``, oldest first (flushed by size, bytes or a ``bf`` timer)."""
        return f"{self.base}:bq:{workflow}:{task}:{group}"

    def batch_buffer_bytes(self, workflow: str, task: str, group: str) -> str:
        """string: the input bytes of the members in ``batch_buffer``."""
        return f"{self.base}:bqb:{workflow}:{task}:{group}"

    def batch_running(self, workflow: str, task: str, group: str) -> str:
        """zset: ids of the group's batches running now, by when one is presumed lost
        (``batch_group_max_runs``)."""
        return f"{self.base}:bqr:{workflow}:{task}:{group}"

    def batch(self, batch_id: str) -> str:
        """list: ``run_id|attempt`` of the members of one flushed batch, leader first."""
        return f"{self.base}:batch:{batch_id}"
