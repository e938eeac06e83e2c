"""The options of the task decorators, each list written once.

Hatchet's ``task`` and ``durable_task`` (on ``Hatchet`` and on ``Workflow``) take, pairwise,
the same long list of options but for the last one: ``slot_cost`` for a task,
``eviction_policy`` for a durable task. Each list is a frozen dataclass here: the options
the pair shares in a base class, the last one in each subclass (a dataclass puts a
subclass's fields after its base's, which is Hatchet's order). The batch decorators share
their ``batch_*`` options the same way, placed by the order of the bases: a dataclass
takes the fields of its bases from the last base to the first, so
``class A(Tail, Batching, Head)`` lists Head's, then Batching's, then Tail's.

``_twins.takes(Options)`` gives a method the dataclass's parameters (names, kinds,
defaults and types: mypy reads them through a ``ParamSpec``, ``inspect.signature`` from
the dataclass) and hands the method's body the options object built from the call::

    @takes(TaskOptions[TWorkflowInput])
    def task(self, options: TaskOptions[TWorkflowInput]) -> TaskDecorator[TWorkflowInput]:
        ...
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic

from typing_extensions import TypeVar

from hatchet_celery._durations import Duration
from hatchet_celery.conditions import Condition, OrGroup
from hatchet_celery.labels import DesiredWorkerLabel
from hatchet_celery.rate_limit import RateLimit
from hatchet_celery.runnables.eviction import DEFAULT_DURABLE_TASK_EVICTION_POLICY, EvictionPolicy
from hatchet_celery.runnables.types import (
    ConcurrencyExpression,
    DefaultFilter,
    EmptyModel,
    Priority,
    StatusBasedIdempotencyConfig,
    StickyStrategy,
    TTLBasedIdempotencyConfig,
)

if TYPE_CHECKING:
    from hatchet_celery.runnables.task import Task

TWorkflowInput = TypeVar("TWorkflowInput", default=EmptyModel)

DEFAULT_SCHEDULE_TIMEOUT = timedelta(minutes=5)
DEFAULT_EXECUTION_TIMEOUT = timedelta(seconds=60)

# The worker labels a task asks for: by key, or as a list naming their keys.
WorkerLabels = dict[str, DesiredWorkerLabel] | list[DesiredWorkerLabel]


@dataclass(frozen=True, kw_only=True)
class _StandaloneOptions(Generic[TWorkflowInput]):
    """What ``Hatchet.task`` and ``Hatchet.durable_task`` share: the options of the
    one-task workflow, then of its task."""

    name: str | None = None
    description: str | None = None
    input_validator: type[TWorkflowInput] | None = None
    on_events: list[str] | None = None
    on_crons: list[str] | None = None
    cron_input: Any = None
    version: str | None = None
    sticky: StickyStrategy | None = None
    default_priority: int | Priority = Priority.LOW
    concurrency: int | ConcurrencyExpression | list[ConcurrencyExpression] | None = None
    schedule_timeout: Duration = DEFAULT_SCHEDULE_TIMEOUT
    execution_timeout: Duration = DEFAULT_EXECUTION_TIMEOUT
    retries: int = 0
    rate_limits: list[RateLimit] | None = None
    desired_worker_labels: WorkerLabels | None = None
    backoff_factor: float | None = None
    backoff_max_seconds: int | None = None
    default_filters: list[DefaultFilter] | None = None
    default_additional_metadata: dict[str, Any] | None = None
    idempotency: TTLBasedIdempotencyConfig | StatusBasedIdempotencyConfig | None = None


@dataclass(frozen=True, kw_only=True)
class StandaloneTaskOptions(_StandaloneOptions[TWorkflowInput]):
    """The parameters of ``Hatchet.task``."""

    slot_cost: int | None = None


@dataclass(frozen=True, kw_only=True)
class StandaloneDurableTaskOptions(_StandaloneOptions[TWorkflowInput]):
    """The parameters of ``Hatchet.durable_task``."""

    eviction_policy: EvictionPolicy | None = DEFAULT_DURABLE_TASK_EVICTION_POLICY


@dataclass(frozen=True)
class _WorkflowTaskOptions(Generic[TWorkflowInput]):
    """What ``Workflow.task`` and ``Workflow.durable_task`` share."""

    name: str | None = None
    schedule_timeout: Duration = DEFAULT_SCHEDULE_TIMEOUT
    execution_timeout: Duration = DEFAULT_EXECUTION_TIMEOUT
    parents: list[Task[TWorkflowInput, Any]] | None = None
    retries: int = 0
    rate_limits: list[RateLimit] | None = None
    desired_worker_labels: WorkerLabels | None = None
    backoff_factor: float | None = None
    backoff_max_seconds: int | None = None
    concurrency: int | list[ConcurrencyExpression] | None = None
    wait_for: list[Condition | OrGroup] | None = None
    skip_if: list[Condition | OrGroup] | None = None
    cancel_if: list[Condition | OrGroup] | None = None


@dataclass(frozen=True)
class TaskOptions(_WorkflowTaskOptions[TWorkflowInput]):
    """The parameters of ``Workflow.task``."""

    slot_cost: int | None = None


@dataclass(frozen=True)
class DurableTaskOptions(_WorkflowTaskOptions[TWorkflowInput]):
    """The parameters of ``Workflow.durable_task``."""

    eviction_policy: EvictionPolicy | None = DEFAULT_DURABLE_TASK_EVICTION_POLICY


@dataclass(frozen=True, kw_only=True)
class _Batching:
    """The ``batch_*`` options of both batch decorators (see ``BatchTaskConfig``)."""

    batch_max_size: int
    batch_max_interval: timedelta | None = None
    batch_group_key: str | None = None
    batch_group_max_runs: int | None = None
    broadcast_output: bool = False


@dataclass(frozen=True, kw_only=True)
class _StandaloneBatchHead:
    name: str | None = None
    description: str | None = None
    input_validator: Any = None
    version: str | None = None
    sticky: StickyStrategy | None = None
    default_priority: int = 1
    schedule_timeout: Duration = DEFAULT_SCHEDULE_TIMEOUT
    execution_timeout: Duration = DEFAULT_EXECUTION_TIMEOUT
    rate_limits: list[RateLimit] | None = None
    desired_worker_labels: dict[str, DesiredWorkerLabel] | None = None
    backoff_factor: float | None = None
    backoff_max_seconds: int | None = None
    default_filters: list[DefaultFilter] | None = None


@dataclass(frozen=True, kw_only=True)
class StandaloneBatchOptions(_Batching, _StandaloneBatchHead):
    """The parameters of ``Hatchet.batch_task``: the head's, then the ``batch_*`` ones."""

    batch_max_size: int = 1


@dataclass(frozen=True)
class _Named:
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class _BatchTaskTail(Generic[TWorkflowInput]):
    schedule_timeout: Duration = DEFAULT_SCHEDULE_TIMEOUT
    execution_timeout: Duration = DEFAULT_EXECUTION_TIMEOUT
    parents: list[Task[TWorkflowInput, Any]] | None = None
    rate_limits: list[RateLimit] | None = None
    desired_worker_labels: WorkerLabels | None = None
    backoff_factor: float | None = None
    backoff_max_seconds: int | None = None


@dataclass(frozen=True)
class BatchTaskOptions(_BatchTaskTail[TWorkflowInput], _Batching, _Named):
    """The parameters of ``Workflow.batch_task``: ``name``, then (keyword-only) the
    ``batch_*`` ones and the tail's."""


__all__ = [
    "BatchTaskOptions",
    "DurableTaskOptions",
    "StandaloneBatchOptions",
    "StandaloneDurableTaskOptions",
    "StandaloneTaskOptions",
    "TaskOptions",
    "WorkerLabels",
]
