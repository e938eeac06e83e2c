"""Indexes that keep ``hatchet.runs.list`` fast with 100k runs stored, and their retention.

Every index is a sorted set written by the Lua transition that changes what it records:

* ``keys.runs`` (by creation time) holds every run; ``create_run.lua`` adds it.
* ``keys.status_index`` holds every run once, scored ``rank * 1e13 + created ms``, so
  each status is a window of creation times: one ``ZADD`` moves a run between statuses
  (``create_run``, ``claim``, ``maybe_finish``, cancel and replay scripts).
* ``keys.index(kind, value)`` (by creation time) per workflow (``wf``), scalar metadata
  pair (``md``) and parent run or parent task run (``parent``), written by ``create_run``;
  the run joins them for life, as these never change.
* ``keys.task_runs`` maps task run ids to their run; ``create_run.lua`` writes every task
  of the run at once (task run ids are derived from the run id: ``task_run_ids.py``).

``create_run.lua`` creates a batch of runs per call and writes each of these indexes
once per batch (one ``ZADD`` / ``HSET`` of all the batch's members).

A listing walks the smallest candidate window newest-first and checks the other filters
by ``ZSCORE`` (``runs_list.lua``), so a page costs about ``limit`` lookups when the
filters match often, and at most the size of the smallest window when they rarely do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from hatchet_celery._keys import Keys
from hatchet_celery._protocol import RunStatus

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.engine import Engine

# The same ranks as ``status_score`` in ``_lib.lua`` (the status index's score bands).
STATUS_RANK: dict[str, int] = {
    RunStatus.QUEUED.value: 1,
    RunStatus.RUNNING.value: 2,
    RunStatus.COMPLETED.value: 3,
    RunStatus.FAILED.value: 4,
    RunStatus.CANCELLED.value: 5,
}
RANK_SPAN = 1e13
# Metadata values longer than this are not indexed (they are payloads, not labels).
MAX_INDEXED_VALUE = 200
# Index entries outlive the run hashes (which expire ``retention`` after they finish).
RETENTION_MARGIN = 3600.0
TRIM_BATCH = 500
# Entries older than the retention itself are dropped as soon as their run hash is gone
# (so memory follows the retention under a steady load, not retention + margin); this
# many of the oldest are checked per index and pass. Older live runs (a durable task
# asleep for days) keep theirs, and the margin above still bounds what stays behind them.
EXPIRED_SCAN = 2000
# Task-run index entries checked per pass, at most (a pass resumes where the last ended).
TASK_RUNS_PER_PASS = 20 * TRIM_BATCH


def metadata_value(value: Any) -> str | None:
    """The text a metadata value is indexed and matched under (None: not indexed)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        return None
    return text if len(text) <= MAX_INDEXED_VALUE else None


def metadata_key(keys: Keys, name: str, value: Any) -> str | None:
    text = metadata_value(value)
    if text is None:
        return None
    return keys.index("md", json.dumps([name, text], separators=(",", ":")))


def listing_keys(
    keys: Keys,
    workflow: str,
    metadata: Mapping[str, Any],
    parent_run_id: str = "",
    parent_task_run_id: str = "",
) -> list[str]:
    """The listing indexes a new run joins (its last KEYS in ``create_run.lua``)."""
    joined = [keys.index("wf", workflow)]
    for name, value in metadata.items():
        key = metadata_key(keys, str(name), value)
        if key is not None:
            joined.append(key)
    for parent in dict.fromkeys(p for p in (parent_run_id, parent_task_run_id) if p):
        joined.append(keys.index("parent", parent))
    return joined


# --- queries --------------------------------------------------------------------------------


@dataclass
class Source:
    """A window of one sorted set: members whose score lies in [lo, hi]; ``offset`` and
    ``scale`` turn a score back into a creation time in seconds."""

    key: str
    lo: float
    hi: float
    offset: float = 0.0
    scale: float = 1.0

    def args(self) -> list[Any]:
        return [repr(self.lo), repr(self.hi), repr(self.offset), repr(self.scale)]


@dataclass
class RunQuery:
    """Filters of a listing; each non-empty group must match (OR inside a group)."""

    since: float
    until: float
    statuses: list[str] = field(default_factory=list)
    workflows: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    event_id: str | None = None

    def groups(self, keys: Keys) -> list[list[Source]]:
        groups: list[list[Source]] = []
        if self.statuses:
            groups.append([status_source(keys, s, self.since, self.until) for s in self.statuses])
        if self.workflows:
            groups.append([self._time(keys.index("wf", w)) for w in self.workflows])
        if self.metadata:
            pairs = [metadata_key(keys, k, v) for k, v in self.metadata.items()]
            # A pair that cannot be indexed matches nothing (it is never written).
            groups.append([self._time(k or keys.index("md", "-")) for k in pairs])
        if self.parent:
            groups.append([self._time(keys.index("parent", self.parent))])
        if self.event_id:
            key = metadata_key(keys, "hatchet__event_id", self.event_id)
            groups.append([self._time(key or keys.index("md", "-"))])
        if not groups:
            groups.append([self._time(keys.runs)])
        return groups

    def _time(self, key: str) -> Source:
        return Source(key, self.since, self.until)


def status_source(keys: Keys, status: str, since: float, until: float) -> Source:
    base = STATUS_RANK[status] * RANK_SPAN
    return Source(
        keys.status_index,
        base + math.floor(since * 1000),
        base + math.floor(until * 1000),
        offset=base,
        scale=0.001,
    )


@dataclass
class Page:
    ids: list[str]
    has_more: bool
    total: int | None  # known when the walk reached the end of the window


def query(engine: Engine, q: RunQuery, offset: int, limit: int) -> Page:
    """Run ids matching ``q``, newest first, ``limit`` of them after ``offset``."""
    groups = q.groups(engine.keys)
    keys: list[str] = []
    args: list[Any] = [offset, limit, len(groups)]
    for group in groups:
        args.append(len(group))
        for source in group:
            keys.append(source.key)
            args.extend(source.args())
    res = engine.store.script("runs_list", keys, args)
    total = int(res[1])
    return Page([str(i) for i in res[2:]], bool(int(res[0])), total if total >= 0 else None)


def repair(engine: Engine, run_id: str) -> None:
    """Re-file a run whose status index entry was stale (a script did not update it),
    under the status its hash holds when the script runs (``index_repair.lua``), not the
    one the listing read a moment before."""
    keys = engine.keys
    engine.store.script("index_repair", [keys.run(run_id), keys.status_index], [run_id])


def lookup_task_run(engine: Engine, task_run_id: str) -> tuple[str, str] | None:
    """(run id, task name) of a task run id, if it is known."""
    raw = engine.store.redis.hget(engine.keys.task_runs, task_run_id)
    if not raw:
        return None
    run_id, _, task = str(raw).partition("|")
    return run_id, task


# --- retention --------------------------------------------------------------------------------


class Trimmer:
    """Drops index entries of runs past retention; called by every worker's pump.

    The time-scored indexes are trimmed by score. The task index has no time, so it is
    scanned a batch per call (a cursor kept here) and entries whose run hash is gone go.
    """

    def __init__(self) -> None:
        self._cursor = 0

    def trim(self, engine: Engine, now: float) -> None:
        keys = engine.keys
        cutoff = now - engine.config.retention_seconds - RETENTION_MARGIN
        r = engine.store.redis
        pipe = r.pipeline(transaction=False)
        for rank in STATUS_RANK.values():
            base = rank * RANK_SPAN
            pipe.zremrangebyscore(keys.status_index, base, base + math.floor(cutoff * 1000))
        pipe.execute()
        self._trim_registry(engine, cutoff)
        self._trim_task_runs(engine)
        if engine.config.retention_seconds > 0:  # 0: run hashes never expire
            self._trim_expired(engine, now - engine.config.retention_seconds)

    @staticmethod
    def _trim_expired(engine: Engine, expired: float) -> None:
        """Drop the entries, created before ``expired``, of runs whose hash has expired."""
        keys = engine.keys
        r = engine.store.redis
        windows: list[tuple[str, float, float]] = [(keys.runs, -math.inf, expired)]
        for rank in STATUS_RANK.values():
            base = rank * RANK_SPAN
            windows.append((keys.status_index, base, base + math.floor(expired * 1000)))
        windows += [(str(k), -math.inf, expired) for k in r.sscan_iter(keys.index_registry)]
        for key, lo, hi in windows:
            ids = [str(i) for i in r.zrangebyscore(key, lo, hi, start=0, num=EXPIRED_SCAN)]
            if not ids:
                continue
            pipe = r.pipeline(transaction=False)
            for run_id in ids:
                pipe.exists(keys.run(run_id))
            gone = [i for i, alive in zip(ids, pipe.execute(), strict=True) if not alive]
            if gone:
                r.zrem(key, *gone)

    @staticmethod
    def _trim_registry(engine: Engine, cutoff: float) -> None:
        r = engine.store.redis
        registry = engine.keys.index_registry
        for batch in _batches(r.sscan_iter(registry, count=TRIM_BATCH), TRIM_BATCH):
            pipe = r.pipeline(transaction=False)
            for key in batch:
                pipe.zremrangebyscore(key, "-inf", cutoff)
                pipe.zcard(key)
            results = pipe.execute()
            empty = [k for k, n in zip(batch, results[1::2], strict=True) if int(n) == 0]
            if empty:
                # Emptiness is checked again atomically: a run may have joined meanwhile.
                engine.store.script("runs_index_drop", [registry, *empty], [])

    def _trim_task_runs(self, engine: Engine) -> None:
        """Scan up to ``TASK_RUNS_PER_PASS`` entries (a full cycle at most) per pass: one
        batch per pass could not keep up with a steady load of task runs."""
        for _ in range(TASK_RUNS_PER_PASS // TRIM_BATCH):
            self._trim_task_runs_batch(engine)
            if self._cursor == 0:
                return

    def _trim_task_runs_batch(self, engine: Engine) -> None:
        r = engine.store.redis
        cursor, entries = r.hscan(engine.keys.task_runs, self._cursor, count=TRIM_BATCH)
        self._cursor = int(cursor)
        if not entries:
            return
        pipe = r.pipeline(transaction=False)
        items = [(str(k), str(v)) for k, v in cast(dict[Any, Any], entries).items()]
        for _, value in items:
            pipe.exists(engine.keys.run(value.partition("|")[0]))
        gone = [tid for (tid, _), alive in zip(items, pipe.execute(), strict=True) if not alive]
        if gone:
            r.hdel(engine.keys.task_runs, *gone)


def _batches(items: Iterable[str], size: int) -> Iterable[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


TRIMMER = Trimmer()
