"""``Context``: what a running task knows about itself and can do.

Built by the executor from one claim result (no further Redis reads for the common
properties); methods that need more (logs, errors of other tasks) ask Redis on use.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from hatchet_celery._attributes import Given
from hatchet_celery._durations import Duration, to_seconds
from hatchet_celery._twins import arguments
from hatchet_celery.context.worker_context import WorkerContext
from hatchet_celery.exceptions import TaskRunError

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.context.runtime_port import TaskRuntime
    from hatchet_celery.runnables.task import Task

R = TypeVar("R")

current_context: contextvars.ContextVar[Context | None] = contextvars.ContextVar(
    "hatchet_celery_current_context", default=None
)
# Child spawn index per task execution (its action key), as Hatchet keeps it; exposed as
# ``hatchet_celery.runnables.contextvars.workflow_spawn_indices``. Each Context starts its
# count at its first spawn and drops it when its execution ends (``_forget_spawns``).
workflow_spawn_indices: Counter[str] = Counter()
_spawn_indices_lock = threading.Lock()
# Indices taken when an async trigger is called, for the trigger to use once it runs in a
# thread: concurrent spawns of one task (asyncio.gather) get them in call order, so a
# replay finds each child at the index it had.
_reserved_indices: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "hatchet_celery_reserved_child_indices", default=None
)

LOG_LINE_LIMIT = 10_000


class Context:
    """The ``ctx`` argument of every task."""

    def __init__(
        self,
        *,
        task: Task[Any, Any],
        registry: Registry | None,
        runtime: TaskRuntime | None = None,
        workflow_run_id: str,
        task_run_id: str,
        input: Any,
        raw_input: dict[str, Any],
        additional_metadata: dict[str, Any],
        retry_count: int,
        priority: int | None,
        parent_outputs: dict[str, Any],
        parent_workflow_run_id: str | None = None,
        parent_task_run_id: str | None = None,
        child_index: int | None = None,
        child_key: str | None = None,
        worker_id: str = "",
        worker_labels: dict[str, str | int] | None = None,
        lifespan: Any = None,
        execution_timeout: float = 60.0,
        started_at: float | None = None,
    ) -> None:
        self._given = arguments(locals())  # read by the Given attributes below
        self._task = task
        self._registry = registry
        self._runtime = runtime  # None under mock_run
        self._input = input
        self._raw_input = raw_input
        self._parent_outputs = parent_outputs
        self._parent_task_run_id = parent_task_run_id
        self._worker_labels = dict(worker_labels or {})
        self._cancelled = threading.Event()
        self._spawned = False
        # the runtime's clock when the attempt started (the engine's ``now()``)
        self.deadline = (time.time() if started_at is None else started_at) + execution_timeout
        self.slot_released = False
        self._slot_units = 0  # worker slot units held (_runtime/core/slots.py)

    # --- identity: what the task run was started with ----------
    workflow_run_id: Given[str] = Given()
    task_run_id: Given[str] = Given()
    worker_id: Given[str] = Given()
    retry_count: Given[int] = Given()
    priority: Given[int | None] = Given()
    parent_workflow_run_id: Given[str | None] = Given()
    child_index: Given[int | None] = Given()
    child_key: Given[str | None] = Given()
    lifespan: Given[Any] = Given()
    additional_metadata: Given[dict[str, Any]] = Given()
    step_run_id: Given[str] = Given(of="task_run_id")  # Hatchet's older name

    @property
    def task_name(self) -> str:
        return self._task.name

    @property
    def workflow_name(self) -> str:
        return self._task.workflow.name

    @property
    def workflow_id(self) -> str | None:
        return self._task.workflow.name

    @property
    def workflow_version_id(self) -> str | None:
        return None

    @property
    def action(self) -> str:
        return self._task.celery_name

    @property
    def worker_labels(self) -> dict[str, str | int]:
        return dict(self._worker_labels)

    @property
    def attempt_number(self) -> int:
        return self.retry_count + 1

    @property
    def max_attempts(self) -> int:
        return self._task.max_attempts

    # --- what the trigger recorded in the run's metadata ----------
    def _recorded_text(self, key: str) -> str | None:
        value = self.additional_metadata.get(key)
        return str(value) if value is not None else None

    def _recorded_dict(self, key: str) -> dict[str, Any]:
        value = self.additional_metadata.get(key)
        return dict(value) if isinstance(value, dict) else {}

    @property
    def triggering_event_id(self) -> str | None:
        return self._recorded_text("hatchet__event_id")

    @property
    def triggering_event_key(self) -> str | None:
        return self._recorded_text("hatchet__event_key")

    @property
    def was_triggered_by_event(self) -> bool:
        return self.triggering_event_id is not None

    @property
    def filter_payload(self) -> dict[str, Any]:
        return self._recorded_dict("hatchet__filter_payload")

    @property
    def trigger_data(self) -> dict[str, Any]:
        return self._recorded_dict("hatchet__trigger_data")

    @property
    def input(self) -> dict[str, Any]:
        return self._raw_input

    @property
    def workflow_input(self) -> dict[str, Any]:
        return self._raw_input

    # --- cancellation ----------
    @property
    def is_cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def exit_flag(self) -> bool:
        return self._cancelled.is_set()

    def done(self) -> bool:
        return self._cancelled.is_set()

    def _mark_cancelled(self) -> None:
        self._cancelled.set()

    def cancel(self) -> None:
        """Cancel this task run (as Hatchet does: its descendants never run, the run ends
        CANCELLED unless a task failed) and set the cancellation flag."""
        self._mark_cancelled()
        if self._runtime is not None:
            self._runtime.cancel_task(self.workflow_run_id, self.task_name)

    async def aio_cancel(self) -> None:
        await asyncio.to_thread(self.cancel)

    # --- parents ----------
    def _parent(self, task: Task[Any, Any]) -> Any:
        name = task.name
        if name not in self._parent_outputs:
            raise ValueError(
                f"task {self.task_name!r}: {name!r} is not a parent of this task (or has no output)"
            )
        return self._parent_outputs[name]

    def was_skipped(self, task: Task[Any, Any]) -> bool:
        value = self._parent_outputs.get(task.name)
        return isinstance(value, dict) and value.get("skipped") is True

    def task_output(self, task: Task[Any, R]) -> R:
        if self.was_skipped(task):
            raise ValueError(f"parent task {task.name!r} was skipped: it has no output")
        return task.parse_output(self._parent(task))

    def aio_task_output(self, task: Task[Any, R]) -> R:
        """``task_output`` for an async parent (a plain method, deprecated, as in Hatchet)."""
        warnings.warn(
            "`aio_task_output` is deprecated: use `task_output`", DeprecationWarning, stacklevel=2
        )
        if task.is_async_function:
            return self.task_output(task)
        raise ValueError(f"Task '{task.name}' is not an async function. Use `task_output` instead.")

    def pause_rate_limit(self, key: str, until: datetime) -> datetime:
        """Pause rate-limit ``key`` until ``until`` (naive = UTC): task runs waiting for it
        stay parked; running ones are unaffected. An earlier time never shortens a pause.
        Returns the time the key is paused until."""
        if self._registry is None:
            raise RuntimeError("pause_rate_limit needs a running task (not a mock run)")
        # through the feature client (``hatchet.rate_limits``), not the runtime's module
        paused: datetime = self._registry.features().rate_limits.pause(key, until)
        return paused

    async def aio_pause_rate_limit(self, key: str, until: datetime) -> datetime:
        return await asyncio.to_thread(self.pause_rate_limit, key, until)

    @property
    def task_run_errors(self) -> dict[str, str]:
        """Errors of the run's failed tasks by task name (for on-failure tasks)."""
        if self._registry is None:
            return {}
        errors = self._registry.client().task_errors(self.workflow_run_id)
        return {name: err.serialize() for name, err in errors.items()}

    def get_task_run_error(self, task: Task[Any, Any]) -> TaskRunError | None:
        if self._registry is None:
            return None
        return self._registry.client().task_errors(self.workflow_run_id).get(task.name)

    def fetch_task_run_error(self, task: Task[Any, Any]) -> str | None:
        err = self.get_task_run_error(task)
        return err.serialize() if err else None

    # --- logs, streams, timeouts ----------
    def log(self, line: str | dict[str, Any] | Any, raise_on_error: bool = False) -> None:
        text = json.dumps(line) if isinstance(line, dict) else str(line)
        try:
            if self._registry is not None:
                self._registry.client().append_log(
                    self.task_run_id,
                    {
                        "message": text[:LOG_LINE_LIMIT],
                        "created_at": datetime.now(UTC).isoformat(),
                        "retry_count": self.retry_count,
                        "attempt": self.attempt_number,
                        "level": "INFO",
                        "task": self.task_name,
                        "workflow_run_id": self.workflow_run_id,
                    },
                )
        except Exception:
            if raise_on_error:
                raise

    async def aio_log(self, line: str | dict[str, Any], raise_on_error: bool = False) -> None:
        await asyncio.to_thread(self.log, line, raise_on_error)

    def put_stream(self, data: str | bytes) -> None:
        if self._registry is None:
            return
        with contextlib.suppress(Exception):
            self._registry.features().runs._put_stream(self.workflow_run_id, data)

    async def aio_put_stream(self, data: str | bytes) -> None:
        await asyncio.to_thread(self.put_stream, data)

    def refresh_timeout(self, increment_by: Duration) -> None:
        """Add ``increment_by`` to this attempt's execution timeout (additive, as in Hatchet)."""
        self.deadline += to_seconds(increment_by, what="refresh_timeout increment_by")

    async def aio_refresh_timeout(self, increment_by: Duration) -> None:
        self.refresh_timeout(increment_by)

    def release_slot(self) -> None:
        """Free this task's worker slot units now, though it keeps running."""
        self.slot_released = True
        if self._runtime is not None:
            self._runtime.release_slot(self)

    async def aio_release_slot(self) -> None:
        self.release_slot()

    def upsert_worker_labels(self, labels: dict[str, str | int]) -> None:
        self._worker_labels.update(labels)
        if self._runtime is not None:
            self._runtime.upsert_worker_labels(self.worker_id, labels)

    async def aio_upsert_worker_labels(self, labels: dict[str, str | int]) -> None:
        await asyncio.to_thread(self.upsert_worker_labels, labels)

    @property
    def worker(self) -> WorkerContext:
        """The worker running this task (``id()``, ``labels()``, ``upsert_labels()``)."""
        return WorkerContext(self)

    # --- children ----------
    @property
    def action_key(self) -> str:
        """This execution's key: task run id and retry count (Hatchet's ``ActionKey``)."""
        return f"{self.task_run_id}/{self.retry_count}"

    async def _reserve_child_indices(self, items: list[tuple[str, str, bool]]) -> list[int]:
        """The child indices of spawns about to be made, ``(workflow, input JSON, keyed)``
        each: the next ones, taken now, in call order."""
        return [self._take_child_index() for _ in items]

    @contextlib.contextmanager
    def _using_child_indices(self, indices: list[int]) -> Iterator[None]:
        """The spawns made inside the block, wherever they run, use ``indices``."""
        token = _reserved_indices.set(list(indices))
        try:
            yield
        finally:
            _reserved_indices.reset(token)

    def _next_child_index(self) -> int:
        reserved = _reserved_indices.get()
        if reserved:
            return reserved.pop(0)
        return self._take_child_index()

    def _skip_child_indices_below(self, index: int) -> None:
        """Later spawns of this execution take indices from ``index`` on."""
        self._take_child_index()  # starts this execution's count if it had not started
        with _spawn_indices_lock:
            key = self.action_key
            workflow_spawn_indices[key] = max(workflow_spawn_indices[key], index)

    def _take_child_index(self) -> int:
        key = self.action_key
        with _spawn_indices_lock:
            if not self._spawned:  # a new execution (a durable replay) counts from 0
                self._spawned = True
                workflow_spawn_indices[key] = 0
            index = workflow_spawn_indices[key]
            workflow_spawn_indices[key] = index + 1
            return index

    def _forget_spawns(self) -> None:
        with _spawn_indices_lock:
            if self._spawned:
                workflow_spawn_indices.pop(self.action_key, None)


__all__ = ["Context", "current_context"]
