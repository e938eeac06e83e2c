"""Option models and enums of Hatchet's declarations (pure data, checked on construction)."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum, IntEnum
from typing import Any, ClassVar, NewType

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hatchet_celery._durations import Duration
from hatchet_celery.runnables.eviction import EvictionPolicy as EvictionPolicy

BatchMemberId = NewType("BatchMemberId", str)
"""A member of a batch, keying a batch task's inputs and outputs: its task run id."""


class EmptyModel(BaseModel):
    """The default input: any keys are kept, the model is immutable."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Priority(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


class StickyStrategy(str, Enum):
    SOFT = "SOFT"
    HARD = "HARD"


class ConcurrencyLimitStrategy(str, Enum):
    CANCEL_IN_PROGRESS = "CANCEL_IN_PROGRESS"
    DROP_NEWEST = "DROP_NEWEST"
    QUEUE_NEWEST = "QUEUE_NEWEST"
    GROUP_ROUND_ROBIN = "GROUP_ROUND_ROBIN"
    CANCEL_NEWEST = "CANCEL_NEWEST"
    CANCEL_QUEUED_EXCEPT_NEWEST = "CANCEL_QUEUED_EXCEPT_NEWEST"
    CANCEL_QUEUED_EXCEPT_OLDEST = "CANCEL_QUEUED_EXCEPT_OLDEST"
    QUEUE_OLDEST = "QUEUE_OLDEST"


class SlotType(str, Enum):
    DEFAULT = "default"
    DURABLE = "durable"


class ConcurrencyExpression(BaseModel):
    """A concurrency key: CEL ``expression`` over the input, at most ``max_runs`` per key."""

    expression: str
    max_runs: int | str
    limit_strategy: ConcurrencyLimitStrategy
    name: str | None = None
    is_tenant_scoped: bool = False

    @field_validator("max_runs")
    @classmethod
    def _check_max_runs(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v <= 0:
            raise ValueError("max_runs must be a positive integer")
        if isinstance(v, str) and not v.strip():
            raise ValueError("max_runs must be a positive integer or a CEL expression")
        return v

    @model_validator(mode="after")
    def _check_scope(self) -> ConcurrencyExpression:
        if self.is_tenant_scoped and not self.name:
            raise ValueError("is_tenant_scoped=True requires a name")
        return self

    @classmethod
    def from_int(cls, max_runs: int) -> ConcurrencyExpression:
        return cls(
            expression="'constant'",
            max_runs=max_runs,
            limit_strategy=ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN,
        )


class TaskDefaults(BaseModel):
    """Workflow-wide fallbacks for ``wf.task`` options left at their default."""

    schedule_timeout: Duration | None = None
    execution_timeout: Duration | None = None
    priority: int | None = Field(default=None, ge=1, le=3)
    retries: int | None = Field(default=None, ge=0)
    backoff_factor: float | None = None
    backoff_max_seconds: int | None = None


class DefaultFilter(BaseModel):
    expression: str
    scope: str
    payload: dict[str, Any] = Field(default_factory=dict)


class BatchTaskConfig(BaseModel):
    """A batch task's settings: members are flushed as one execution when
    ``batch_max_size`` are waiting or ``batch_max_interval`` after the oldest arrived,
    per ``batch_group_key`` (CEL over the input); ``broadcast_output`` gives every member
    the function's one output."""

    batch_max_size: int
    batch_max_interval: timedelta | None = None
    batch_group_key: str | None = None
    batch_group_max_runs: int | None = None
    broadcast_output: bool = False


class IdempotencyMethod(Enum):
    """How long an idempotency key stays taken: its TTL, or while its run is unfinished."""

    TTL = "TTL"
    STATUS = "STATUS"


class BaseIdemotencyConfig(BaseModel):  # (sic) Hatchet's spelling
    """A CEL ``key_expression`` over ``input`` and ``additional_metadata``; a trigger whose
    key is taken creates no run (``IdempotencyCollisionError``)."""

    key_expression: str
    # Each kind says how its key is held, and which of its fields bounds for how long.
    method: ClassVar[IdempotencyMethod]
    ttl_field: ClassVar[str]

    @property
    def ttl_ms(self) -> int:
        """The longest the key stays taken, in milliseconds."""
        ttl: timedelta = getattr(self, self.ttl_field)
        return int(ttl.total_seconds() * 1000)


class TTLBasedIdempotencyConfig(BaseIdemotencyConfig):
    """The key is taken for ``ttl`` after the run that took it was created."""

    method = IdempotencyMethod.TTL
    ttl_field = "ttl"
    ttl: timedelta


class StatusBasedIdempotencyConfig(BaseIdemotencyConfig):
    """The key is taken until its run finishes (completed, failed after its last retry, or
    cancelled), and never longer than ``fallback_ttl``."""

    method = IdempotencyMethod.STATUS
    ttl_field = "fallback_ttl"
    fallback_ttl: timedelta


class WorkflowConfig(BaseModel):
    """The declaration-level options of a workflow, as Hatchet exposes them."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    description: str | None = None
    version: str | None = None
    on_events: list[str] = Field(default_factory=list)
    on_crons: list[str] = Field(default_factory=list)
    sticky: StickyStrategy | None = None
    concurrency: list[ConcurrencyExpression] = Field(default_factory=list)
    default_priority: int = Priority.LOW
    default_additional_metadata: dict[str, Any] = Field(default_factory=dict)
    default_filters: list[DefaultFilter] = Field(default_factory=list)
    task_defaults: TaskDefaults = Field(default_factory=TaskDefaults)
    idempotency: TTLBasedIdempotencyConfig | StatusBasedIdempotencyConfig | None = None
