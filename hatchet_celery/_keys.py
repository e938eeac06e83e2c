"""The Redis key layout: the only module that formats a key name.

Everything lives under ``<prefix>:<namespace>`` so the package can share a Redis with an
existing deployment, and two namespaces on one Redis never see each other's state.

Layout (``P`` = ``<prefix>:<namespace>``; ``tests/test_protocol.py`` checks that this
table and the methods below name the same keys):

===================================  ========  =========================================
key                                  type      holds
===================================  ========  =========================================
``P:run:<run_id>``                   hash      one workflow run: run fields and, per
                                               task, ``<f>:<task>`` fields (status,
                                               attempt, claim, ids, times, output,
                                               error, fan-in counter;
                                               ``docs/architecture.md``)
``P:runs``                           zset      run ids by creation time (listing,
                                               retention)
``P:timers``                         zset      timer members ``<kind>|...`` by due time:
                                               retries, redispatch, sleeps, schedules,
                                               gate wake-ups (one mechanism; the kinds
                                               in ``docs/architecture.md``)
``P:leases``                         zset      ``<claim>|<run_id>|<task>`` of running
                                               task runs by lease expiry
``P:done``                           channel   run ids published when a run finishes
``P:logs:<task_run_id>``             list      ``ctx.log`` lines
``P:workflows``                      hash      workflow name -> shape JSON (registered
                                               by workers, read by processes without the
                                               code)
``P:workers``                        hash      worker id -> worker JSON (heartbeats)
``P:crons``                          hash      cron id -> cron record JSON
``P:crons:names``                    hash      cron name -> id (names are unique per
                                               workflow)
``P:crons:declared``                 hash      workflow -> ids of its declared crons
``P:crons:version``                  string    change counter (beats reload when it
                                               moves)
``P:crons:fired``                    hash      cron id -> latest tick fired
``P:crons:recent:<cron_id>``         zset      ticks fired within the catch-up window
``P:sched:<scheduled_id>``           hash      one scheduled run
``P:scheds``                         zset      scheduled ids by creation time
``P:ix:status``                      zset      run ids scored ``rank * 1e13 + created
                                               ms`` (one window per status)
``P:ix:<kind>:<value>``              zset      run ids by creation time per workflow
                                               (wf), metadata pair (md) or parent
                                               (parent)
``P:ix:keys``                        set       the ``P:ix:<kind>:<value>`` keys
                                               (retention)
``P:truns``                          hash      task run id -> ``<run_id>|<task>``
``P:stream:<run_id>``                list      ``put_stream`` chunks in order
``P:stream:<run_id>:new``            channel   index of each chunk pushed (subscribers
                                               wake)
``P:ev:data``                        hash      event id -> event JSON
``P:ev:all``                         zset      event ids by time
``P:ev:key:<event_key>``             zset      event ids of one key by time (waits look
                                               back)
``P:ev:wait:<event_key>``            hash      waits registered on an event key
``P:ev:subs``                        hash      event key -> workflows subscribed
                                               (registered by workers)
``P:ev:filters``                     hash      filter id -> filter JSON
``P:webhooks``                       hash      incoming webhook name -> webhook JSON
``P:conc:<gate>``                    hash      one concurrency gate: counts, maxima,
                                               holder and waiter records
``P:conc:<gate>:q``                  zset      its waiters, one lex range per key,
                                               oldest first
``P:conc:<gate>:h``                  zset      its holders, one lex range per key
``P:aff:used``                       string    set once a trigger gave runs desired
                                               labels or a sticky worker
``P:rl:<key>``                       hash      one rate-limit bucket
``P:rl:keys``                        zset      the rate-limit keys (listing)
``P:idem:<key>``                     string    ``<run_id>|<TTL|STATUS>``: the run
                                               holding an idempotency key
``P:paused``                         hash      paused workflow -> pause settings JSON
``P:paused:<workflow>``              zset      the task runs a paused workflow parks, by
                                               queued time
``P:bq:<workflow>:<task>:<group>``   list      batch members waiting for their batch
``P:bqb:<workflow>:<task>:<group>``  string    bytes of input those members hold
``P:bqr:<workflow>:<task>:<group>``  zset      batches of that group running
``P:batch:<batch_id>``               list      the members of a flushed batch
===================================  ========  =========================================
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

    # --- runs listing, task run lookup, streams (hatchet_celery/_runtime/core/run_index.py) -----
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
