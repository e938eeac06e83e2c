"""``hatchet.runs``: find runs, inspect them, cancel, replay and stream them.

Reads come straight from the run hashes (``_runtime/core/state.py``) and the listing indexes
(``_runtime/core/run_index.py``); cancel and replay are Lua transitions
(``_runtime/ops/cancellation.py``); streams are ``_runtime/ops/streams.py``. Every method has
an ``aio_`` twin generated from it (``features/_aio.py``).
"""

from __future__ import annotations

import builtins
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from pydantic import BaseModel, model_validator

from hatchet_celery._runtime.core import run_index
from hatchet_celery._runtime.core.state import RunState
from hatchet_celery._runtime.ops import cancellation, streams
from hatchet_celery._runtime.waits import restore as durable_restore
from hatchet_celery._twins import aio_twin, parameters
from hatchet_celery.clients.admin import (
    TriggerWorkflowOptions,
    WorkflowRunDetail,
    WorkflowRunTriggerConfig,
)
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.v1_branch_durable_task_response import (
    V1BranchDurableTaskResponse,
)
from hatchet_celery.clients.rest.models.v1_task_status import V1TaskStatus
from hatchet_celery.clients.rest.models.v1_task_summary import V1TaskSummary
from hatchet_celery.clients.rest.models.v1_task_summary_list import V1TaskSummaryList
from hatchet_celery.clients.rest.models.v1_workflow_run_details import V1WorkflowRunDetails
from hatchet_celery.exceptions import RunNotFoundError
from hatchet_celery.features import _views
from hatchet_celery.features._base import FeatureClient
from hatchet_celery.workflow_run import WorkflowRunRef

log = logging.getLogger(__name__)
DEFAULT_LIMIT = 50
BULK_PAGE = 1000


class RunFilter(BaseModel):
    """Which runs a bulk cancel or replay applies to (every field must match)."""

    since: datetime
    until: datetime | None = None
    statuses: list[V1TaskStatus] | None = None
    workflow_ids: list[str] | None = None
    additional_metadata: dict[str, str] | None = None


class BulkCancelReplayOpts(BaseModel):
    """Either ``ids`` (run or task run ids) or ``filters``, not both."""

    ids: list[str] | None = None
    filters: RunFilter | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> BulkCancelReplayOpts:
        if not self.ids and not self.filters:
            raise ValueError("ids or filters must be set")
        if self.ids and self.filters:
            raise ValueError("ids and filters cannot both be set")
        return self


class _Chunks(NamedTuple):
    """A bulk action by filters, cut in chunks of ``chunk_size`` ids ``sleep_time`` apart."""

    filters: RunFilter
    sleep_time: float
    chunk_size: int


def _ts(value: datetime | None, default: float) -> float:
    return value.timestamp() if value is not None else default


def _statuses(statuses: builtins.list[V1TaskStatus] | None) -> builtins.list[str]:
    return [V1TaskStatus(s).value for s in statuses or []]


class _Listing(NamedTuple):
    """A listing of runs as asked: the index query, the page wanted, the row options."""

    query: run_index.RunQuery
    offset: int | None
    limit: int | None
    only_tasks: bool
    worker_id: str | None
    include_payloads: bool


class RunsClient(FeatureClient):
    """Runs of every workflow of this registry's namespace."""

    def _state(self, run_id: str) -> RunState:
        state = self._registry.client().fetch(run_id)
        if state is None:
            raise RunNotFoundError(f"workflow run {run_id!r} not found (or it expired)")
        return state

    # --- one run ------------------------------------------------------------------------------
    def get(self, workflow_run_id: str) -> V1WorkflowRunDetails:
        """The run, its task runs and their event history."""
        return _views.run_details(self._state(str(workflow_run_id)))

    aio_get = aio_twin(get)

    def get_details(self, external_id: str) -> WorkflowRunDetail:
        """Status, input, metadata and the task runs created so far, by task name."""
        return _views.run_detail(self._state(str(external_id)))

    aio_get_details = aio_twin(get_details)

    def get_status(self, workflow_run_id: str) -> V1TaskStatus:
        status = self._engine.store.redis.hget(self._engine.keys.run(workflow_run_id), "st")
        if status is None:
            raise RunNotFoundError(f"workflow run {workflow_run_id!r} not found (or it expired)")
        return _views.task_status(str(status))

    aio_get_status = aio_twin(get_status)

    def get_task_run(self, task_run_id: str) -> V1TaskSummary:
        found = run_index.lookup_task_run(self._engine, task_run_id)
        state = self._registry.client().fetch(found[0]) if found else None
        if found is None or state is None or found[1] not in state.tasks:
            raise RunNotFoundError(f"task run {task_run_id!r} not found (or it expired)")
        return _views.task_summary(state, state.tasks[found[1]])

    aio_get_task_run = aio_twin(get_task_run)

    def get_result(self, run_id: str) -> dict[str, Any]:
        """The outputs of the run's finished task runs, by task name."""
        return self.get(run_id).run.output

    aio_get_result = aio_twin(get_result)

    def get_run_ref(self, workflow_run_id: str) -> WorkflowRunRef:
        return WorkflowRunRef(workflow_run_id, self._registry)

    def create(
        self,
        workflow_name: str,
        input: dict[str, Any],
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
    ) -> V1WorkflowRunDetails:
        """Trigger a workflow by name (declared here, or registered by a worker)."""
        item = WorkflowRunTriggerConfig(
            workflow_name=workflow_name,
            input=json.dumps(input or {}),
            options=TriggerWorkflowOptions(
                additional_metadata=dict(additional_metadata or {}),
                priority=int(priority) if priority is not None else None,
            ),
        )
        run_id = self._registry.client().trigger_by_name(workflow_name, [item])[0]
        return self.get(run_id)

    aio_create = aio_twin(create)

    # --- cancel and replay --------------------------------------------------------------------
    def cancel(self, run_id: str) -> None:
        """Cancel a run (by run id) or a single task run (by task run id)."""
        cancellation.cancel(self._engine, run_id)

    aio_cancel = aio_twin(cancel)

    def replay(self, run_id: str) -> None:
        """Run the failed and cancelled task runs of a finished run again (retry_count + 1)."""
        cancellation.replay(self._engine, run_id)

    aio_replay = aio_twin(replay)

    def _each(
        self, opts: BulkCancelReplayOpts, action: Callable[[Any, str], Any], what: str
    ) -> None:
        """Apply ``action`` to every run ``opts`` names; a run gone meanwhile is skipped."""
        for run_id in self._bulk_ids(opts):
            try:
                action(self._engine, run_id)
            except RunNotFoundError:
                log.info("hatchet_celery: bulk %s: %s not found", what, run_id)

    def bulk_cancel(self, opts: BulkCancelReplayOpts) -> None:
        self._each(opts, cancellation.cancel, "cancel")

    aio_bulk_cancel = aio_twin(bulk_cancel)

    def bulk_replay(self, opts: BulkCancelReplayOpts) -> None:
        self._each(opts, cancellation.replay, "replay")

    aio_bulk_replay = aio_twin(bulk_replay)

    def _bulk_ids(self, opts: BulkCancelReplayOpts) -> builtins.list[str]:
        if opts.ids:
            return builtins.list(opts.ids)
        assert opts.filters is not None
        f = opts.filters
        return self._ids(
            run_index.RunQuery(
                since=f.since.timestamp(),
                until=_ts(f.until, time.time()),
                statuses=_statuses(f.statuses),
                workflows=[self._workflow_name(w) for w in f.workflow_ids or []],
                metadata=dict(f.additional_metadata or {}),
            )
        )

    def _ids(self, query: run_index.RunQuery) -> builtins.list[str]:
        ids: builtins.list[str] = []
        while True:
            page = run_index.query(self._engine, query, len(ids), BULK_PAGE)
            ids.extend(page.ids)
            if not page.has_more:
                return ids

    def _in_chunks(
        self,
        sleep_time: int = 3,
        chunk_size: int = 500,
        since: datetime | None = None,
        until: datetime | None = None,
        statuses: builtins.list[V1TaskStatus] | None = None,
        additional_metadata: dict[str, str] | None = None,
        workflow_ids: builtins.list[str] | None = None,
    ) -> _Chunks:
        """The parameters of ``bulk_{cancel,replay}_by_filters_with_pagination``: the
        runs of ``since`` (a day before ``until``) to ``until`` (now) that match."""
        end = until or datetime.now(UTC)
        filters = RunFilter(
            since=since or end - timedelta(days=1),
            until=end,
            statuses=statuses,
            workflow_ids=workflow_ids,
            additional_metadata=additional_metadata,
        )
        return _Chunks(filters, sleep_time, chunk_size)

    @parameters(_in_chunks)
    def bulk_cancel_by_filters_with_pagination(self, chunks: _Chunks) -> None:
        """Cancel the matching runs (default: QUEUED and RUNNING) in chunks."""
        self._chunked(self.bulk_cancel, chunks, [V1TaskStatus.RUNNING, V1TaskStatus.QUEUED])

    aio_bulk_cancel_by_filters_with_pagination = aio_twin(bulk_cancel_by_filters_with_pagination)

    @parameters(_in_chunks)
    def bulk_replay_by_filters_with_pagination(self, chunks: _Chunks) -> None:
        """Replay the matching runs (default: FAILED and CANCELLED) in chunks."""
        self._chunked(self.bulk_replay, chunks, [V1TaskStatus.FAILED, V1TaskStatus.CANCELLED])

    aio_bulk_replay_by_filters_with_pagination = aio_twin(bulk_replay_by_filters_with_pagination)

    def _chunked(
        self,
        action: Callable[[BulkCancelReplayOpts], Any],
        chunks: _Chunks,
        default_statuses: builtins.list[V1TaskStatus],
    ) -> None:
        filters = chunks.filters
        if not filters.statuses:
            filters = filters.model_copy(update={"statuses": default_statuses})
        ids = self._bulk_ids(BulkCancelReplayOpts(filters=filters))
        size = chunks.chunk_size
        for start in range(0, len(ids), max(1, size)):
            action(BulkCancelReplayOpts(ids=ids[start : start + size]))
            if start + size < len(ids):
                time.sleep(chunks.sleep_time)

    # --- durable tasks -----------------------------------------------------------------------
    @contextmanager
    def client(self) -> Iterator[RunsClient]:
        """Hatchet's REST client context (for ``TaskApi(client)``); there is no HTTP client
        here, so it is ``self``."""
        yield self

    def _durable_task(self, external_id: str) -> tuple[str, str]:
        """(run id, task) of a durable task run id, or of a run id whose one durable task
        it names (a standalone durable task's run)."""
        engine = self._engine
        found = run_index.lookup_task_run(engine, external_id)
        if found is not None:
            return found
        run_id = cancellation.resolve_run_id(engine, external_id)
        fields = [str(f) for f in engine.store.redis.hkeys(engine.keys.run(run_id))]
        durable = sorted({f[3:] for f in fields if f.startswith("ic:")})
        tasks = sorted({f[2:] for f in fields if f.startswith("s:")})
        names = durable or tasks
        if len(names) != 1:
            raise ValueError(
                f"run {run_id} has {len(names)} candidate durable tasks; pass a task run id"
            )
        return run_id, names[0]

    def restore_task(self, task_external_id: str) -> bool:
        """Queue an evicted durable task run again (it replays from its checkpoints);
        False, changing nothing, when it is not evicted."""
        run_id, task = self._durable_task(str(task_external_id))
        return durable_restore.restore(self._engine, run_id, task)

    aio_restore_task = aio_twin(restore_task)

    def reset_durable_task(
        self, task_external_id: str, node_id: int, branch_id: int
    ) -> V1BranchDurableTaskResponse:
        """Run a finished durable task again from checkpoint ``node_id`` of branch
        ``branch_id``: the earlier checkpoints return their results, the later waits wait
        again, on a new branch (whose id is returned)."""
        run_id, task = self._durable_task(str(task_external_id))
        branch = durable_restore.reset(self._engine, run_id, task, int(node_id), int(branch_id))
        cancellation.replay(self._engine, run_id)
        task_run_id = self._state(run_id).tasks.get(task)
        return V1BranchDurableTaskResponse(
            task_external_id=task_run_id.id if task_run_id else str(task_external_id),
            node_id=int(node_id),
            branch_id=branch,
        )

    aio_reset_durable_task = aio_twin(reset_durable_task)

    # --- streams ------------------------------------------------------------------------------
    async def subscribe_to_stream(self, workflow_run_id: str) -> AsyncIterator[str]:
        """Yield the run's ``put_stream`` chunks in order until the run has ended."""
        async for chunk in streams.subscribe(self._engine, workflow_run_id):
            yield chunk

    def _put_stream(self, run_id: str, data: str | bytes) -> None:
        streams.put(self._engine, run_id, data)

    # --- listing ------------------------------------------------------------------------------
    def _workflow_name(self, workflow_id: str) -> str:
        """Workflow ids are their (namespaced) names here."""
        return self._registry.config.apply_namespace(workflow_id)

    def _listing(
        self,
        since: datetime | None = None,
        only_tasks: bool = False,
        offset: int | None = None,
        limit: int | None = None,
        statuses: builtins.list[V1TaskStatus] | None = None,
        until: datetime | None = None,
        additional_metadata: dict[str, str] | None = None,
        workflow_ids: builtins.list[str] | None = None,
        worker_id: str | None = None,
        parent_task_external_id: str | None = None,
        triggering_event_external_id: str | None = None,
        include_payloads: bool = True,
    ) -> _Listing:
        """The parameters of ``list`` and ``list_with_pagination``: the time window is
        fixed once, so every page of one listing reads the same window."""
        now = time.time()
        wanted = _statuses(statuses)
        query = run_index.RunQuery(
            since=_ts(since, now - 86400),
            until=_ts(until, now),
            statuses=wanted,
            workflows=[self._workflow_name(w) for w in workflow_ids or []],
            metadata=dict(additional_metadata or {}),
            parent=parent_task_external_id,
            event_id=triggering_event_external_id,
        )
        return _Listing(query, offset, limit, only_tasks, worker_id, include_payloads)

    @parameters(_listing)
    def list_with_pagination(self, listing: _Listing) -> builtins.list[V1TaskSummary]:
        """Every matching row (all pages), newest first."""
        rows: builtins.list[V1TaskSummary] = []
        start, size = max(0, listing.offset or 0), max(1, listing.limit or BULK_PAGE)
        while True:
            page = self._page(listing, start, size)
            rows.extend(page.rows)
            start += size
            if page.pagination.next_page is None:
                return rows

    aio_list_with_pagination = aio_twin(list_with_pagination)

    @parameters(_listing)
    def list(self, listing: _Listing) -> V1TaskSummaryList:
        """Runs created between ``since`` (default: a day ago) and ``until`` (now), newest
        first; ``additional_metadata`` matches runs having any of the pairs. With
        ``only_tasks`` the rows are the task runs of the matching runs."""
        skip, size = max(0, listing.offset or 0), max(1, listing.limit or DEFAULT_LIMIT)
        return self._page(listing, skip, size)

    def _page(self, listing: _Listing, skip: int, size: int) -> V1TaskSummaryList:
        engine, query = self._engine, listing.query
        page = run_index.query(engine, query, skip, size)
        rows: builtins.list[V1TaskSummary] = []
        for run_id, state in zip(
            page.ids, self._registry.client().fetch_many(page.ids), strict=True
        ):
            if state is None:
                continue
            if query.statuses and _views.task_status(state.status).value not in query.statuses:
                run_index.repair(engine, run_id)
                continue
            worker_id = listing.worker_id
            if worker_id and not any(t.worker == worker_id for t in state.tasks.values()):
                continue
            if listing.only_tasks:
                rows.extend(
                    _views.task_summary(state, t, listing.include_payloads)
                    for t in state.tasks.values()
                )
            else:
                rows.append(_views.run_summary(state, listing.include_payloads))
        current = skip // size + 1
        pages = None if page.total is None else max(1, -(-page.total // size))
        return V1TaskSummaryList(
            pagination=PaginationResponse(
                current_page=current,
                next_page=current + 1 if page.has_more else None,
                num_pages=pages,
            ),
            rows=rows,
        )

    aio_list = aio_twin(list)


__all__ = ["BulkCancelReplayOpts", "RunFilter", "RunsClient"]
