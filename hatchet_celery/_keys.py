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

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Generic, ParamSpec, overload

P = ParamSpec("P")


class _Key:
    """``keys.<name>``: the key ``<base>:<path>`` (a constant per ``Keys``)."""

    def __init__(self, path: str, doc: str = "") -> None:
        self.path = path
        self.__doc__ = doc or None

    @overload
    def __get__(self, keys: None, owner: type) -> _Key: ...
    @overload
    def __get__(self, keys: Keys, owner: type) -> str: ...
    def __get__(self, keys: Keys | None, owner: type) -> _Key | str:
        return self if keys is None else f"{keys.base}:{self.path}"


class _Keyed(Generic[P]):
    """``keys.<name>(...)``: the key ``<base>:<path>`` whose ``{field}`` parts are the
    arguments, in order (``stream:{run_id}:new`` -> ``keys.stream_channel(run_id)``)."""

    def __init__(self, path: str, doc: str = "") -> None:
        self.path = path
        self.fields = tuple(re.findall(r"\{(\w+)\}", path))
        self._template = re.sub(r"\{\w+\}", "{}", path)
        self.__doc__ = doc or None

    @overload
    def __get__(self, keys: None, owner: type) -> _Keyed[P]: ...
    @overload
    def __get__(self, keys: Keys, owner: type) -> Callable[P, str]: ...
    def __get__(self, keys: Keys | None, owner: type) -> _Keyed[P] | Callable[P, str]:
        if keys is None:
            return self
        prefix, template = f"{keys.base}:", self._template

        def key(*args: P.args, **kwargs: P.kwargs) -> str:
            return prefix + template.format(*args)

        return key


_Key1 = _Keyed[[str]]
_Key2 = _Keyed[[str, str]]
_Key3 = _Keyed[[str, str, str]]


@dataclass(frozen=True)
class Keys:
    """Every key name, built from the prefix and the namespace; the descriptors below are
    the layout table above, one line per key (``tests/test_keys.py`` pins each)."""

    prefix: str
    namespace: str

    @cached_property
    def base(self) -> str:
        ns = self.namespace.rstrip("_") or "default"
        return f"{self.prefix}:{ns}"

    run = _Key1("run:{run_id}")
    runs = _Key("runs")
    timers = _Key("timers")
    leases = _Key("leases")
    done_channel = _Key("done")
    logs = _Key1("logs:{task_run_id}")
    workflows = _Key("workflows")
    workers = _Key("workers")
    #: Prefix handed to Lua scripts that must address runs named inside a message
    run_prefix = _Key("run:")

    # --- crons and scheduled runs (hatchet_celery/_runtime/timing/crons.py, schedules.py) ---------
    #: hash: cron id -> cron record JSON (declared ``on_crons`` and API-created)
    crons = _Key("crons")
    #: hash: ``workflow<US>name<US>expression`` -> cron id (API crons are unique so)
    cron_names = _Key("crons:names")
    #: hash: workflow name -> JSON list of the ids of its declared crons
    crons_declared = _Key("crons:declared")
    #: string: bumped on every change to ``crons``, so beats reload only on change
    crons_version = _Key("crons:version")
    #: hash: cron id -> epoch second of the latest tick fired (the fire high-water mark)
    cron_fired = _Key("crons:fired")
    #: zset: the ticks of one cron fired within the catch-up window (exactly-once set)
    cron_recent = _Key1("crons:recent:{cron_id}")
    #: hash: one scheduled run (workflow, trigger time, input, metadata, run once fired)
    scheduled = _Key1("sched:{scheduled_id}")
    #: zset: scheduled run ids by creation time (listing)
    scheduled_index = _Key("scheds")

    # --- runs listing, task run lookup, streams (hatchet_celery/_runtime/core/run_index.py) -----
    #: zset: run ids scored ``rank * 1e13 + created ms`` (see ``run_index.STATUS_RANK``)
    status_index = _Key("ix:status")
    #: zset: run ids by creation time that share a workflow, metadata pair or parent
    index = _Key2("ix:{kind}:{value}")
    #: set: every ``index()`` key written, so retention can trim them
    index_registry = _Key("ix:keys")
    #: hash: task run id -> ``run_id|task`` (cancel, replay, get by task run id)
    task_runs = _Key("truns")
    #: list: the ``put_stream`` chunks of a run, in order
    stream = _Key1("stream:{run_id}")
    #: channel: the index of every chunk pushed to ``stream(run_id)``
    stream_channel = _Key1("stream:{run_id}:new")

    # --- waits and events (_runtime/waits/store.py, conditions.py, durable_waits.py, events.py) --
    # Run-hash fields of waits (see waits.py): ``cw:<task>`` active wait spec,
    # ``cv:<task>:<cid>`` satisfied condition data, ``cd:<task>`` decided condition action,
    # ``cp:<task>:<node>`` durable checkpoint, ``cm:<task>:<memo key>`` durable memo.
    # Durable eviction and branches (durable_restore.py): ``ct:<task>:<node>`` when the
    # wait of a node first began, ``ic:<task>`` invocation count, ``ev:<task>`` the claim
    # a task run was evicted under (``er`` reason, ``ew`` awaited child runs, timer
    # ``dvc|<run>|<task>``), ``db:<task>`` / ``dbn:<task>`` current / last branch,
    # ``cpb:<task>:<branch>`` archived checkpoints of a branch.
    #: hash: event id -> event JSON (key, payload, metadata, scope, ts, runs)
    event_data = _Key("ev:data")
    #: zset: event ids by push time (listing, retention)
    events = _Key("ev:all")
    #: zset: ids of the events pushed with one (namespaced) key, by push time (lookback)
    events_by_key = _Key1("ev:key:{event_key}")
    #: hash: ``run|task|wait|cond`` -> waiter JSON, the waits an event key may satisfy
    event_waiters = _Key1("ev:wait:{event_key}")
    #: hash: workflow name -> JSON ``{on_events, tasks}`` (written by workers)
    event_subscriptions = _Key("ev:subs")
    #: hash: filter id -> filter JSON (API-created and declarative ``default_filters``)
    event_filters = _Key("ev:filters")
    #: hash: incoming webhook name -> webhook JSON (its create request and times)
    webhooks = _Key("webhooks")

    # --- flow control (_runtime/flow/concurrency.py, ratelimits.py, affinity.py) ---------------
    # Run-hash fields of flow control: ``aff`` run-level desired worker labels (JSON),
    # ``sw`` the run's sticky worker id; waiting statuses WAIT_CONCURRENCY,
    # WAIT_RATE_LIMIT, WAIT_WORKER.
    #: hash: one concurrency gate: counts and maxima per key, holder and waiter records
    conc_state = _Key1("conc:{gate}")
    #: zset (lex): waiters of a gate per expression and key, oldest first
    conc_queue = _Key1("conc:{gate}:q")
    #: zset (lex): holders of a gate per expression and key, oldest first
    conc_held = _Key1("conc:{gate}:h")
    #: hash: one rate-limit bucket: limit, window, current window and units left, pause
    rate_limit = _Key1("rl:{key}")
    #: zset: rate-limit keys by last change (listing)
    rate_limits = _Key("rl:keys")

    # --- idempotency keys (_runtime/core/idempotency.py, create_run.lua) -------------------------
    #: string: ``<run_id>|<method>`` of the run that holds an idempotency key; it expires after
    #: the key's TTL (the fallback TTL for status-based keys)
    idempotency = _Key1("idem:{key}")

    # --- workflow pause (_runtime/flow/pause.py) --------------------------------------------------
    #: hash: paused workflow name -> JSON ``{ttl, cron, scheduled}`` (its pause settings)
    paused = _Key("paused")
    #: zset: ``run_id|task|attempt`` of the task runs a paused workflow parked, scored by the
    #: time each was queued (cancelled once older than the queue TTL)
    paused_tasks = _Key1("paused:{workflow}")

    # --- batch tasks (_runtime/flow/batch.py) --------------------------------------------
    # Run-hash field ``bt:<task>``: ``<batch_id>|<attempt>`` of a member taken into a batch.
    #: list: ``run_id|attempt|bytes`` of the members waiting for a batch of ``task`` in group
    #: ``group``, oldest first (flushed by size, bytes or a ``bf`` timer)
    batch_buffer = _Key3("bq:{workflow}:{task}:{group}")
    #: string: the input bytes of the members in ``batch_buffer``
    batch_buffer_bytes = _Key3("bqb:{workflow}:{task}:{group}")
    #: zset: ids of the group's batches running now, by when one is presumed lost
    #: (``batch_group_max_runs``)
    batch_running = _Key3("bqr:{workflow}:{task}:{group}")
    #: list: ``run_id|attempt`` of the members of one flushed batch, leader first
    batch = _Key1("batch:{batch_id}")
