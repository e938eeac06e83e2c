"""hatchet_celery: Hatchet's Python workflow API, executed by Celery and Redis.

Change ``from hatchet_sdk import ...`` to ``from hatchet_celery import ...``; declare tasks
and workflows as with Hatchet; run them with ``celery -A proj worker`` or
``hatchet.worker(...).start()``.
"""

from hatchet_celery import conditions as _conditions
from hatchet_celery.clients.admin import (
    RunStatus,
    ScheduleTriggerWorkflowOptions,
    TriggerWorkflowOptions,
    WorkflowRunTriggerConfig,
)
from hatchet_celery.clients.events import (
    BulkPushEventOptions,
    BulkPushEventWithMetadata,
    PushEventOptions,
)
from hatchet_celery.clients.listeners.run_event_listener import (
    StepRunEventType,
    WorkflowRunEventType,
)
from hatchet_celery.clients.rest.models import (
    V1TaskStatus,
)
from hatchet_celery.conditions import *  # noqa: F403 - its __all__ is our conditions group
from hatchet_celery.config import (
    ClientConfig,
    ClientTLSConfig,
    EmbeddedHatchetConfig,
    HealthcheckConfig,
    OpenTelemetryConfig,
    TenacityConfig,
)
from hatchet_celery.context import Context
from hatchet_celery.durable import DurableContext
from hatchet_celery.exceptions import (
    BulkTriggerIdempotencyCollisionError,
    DedupeViolationError,
    EvictionNotSupportedError,
    FailedTaskRunExceptionGroup,
    HatchetCeleryError,
    IdempotencyCollisionError,
    NonDeterminismError,
    NonRetryableException,
    RetryAfterException,
    TaskRunError,
)
from hatchet_celery.features.cel import CELEvaluationResult, CELFailure, CELSuccess
from hatchet_celery.features.runs import BulkCancelReplayOpts, RunFilter
from hatchet_celery.hatchet import Hatchet
from hatchet_celery.labels import DesiredWorkerLabel, WorkerLabel, WorkerLabelComparator
from hatchet_celery.rate_limit import RateLimit, RateLimitDuration
from hatchet_celery.runnables.task import Depends, Task
from hatchet_celery.runnables.types import (
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    DefaultFilter,
    EmptyModel,
    EvictionPolicy,
    Priority,
    SlotType,
    StatusBasedIdempotencyConfig,
    StickyStrategy,
    TaskDefaults,
    TTLBasedIdempotencyConfig,
    WorkflowConfig,
)
from hatchet_celery.serde import is_in_hatchet_serialization_context
from hatchet_celery.worker import Worker, WorkerStatus
from hatchet_celery.workflow_run import TaskRunRef, WorkflowRunRef

__all__ = [
    # client
    "ClientConfig",
    "ClientTLSConfig",
    "EmbeddedHatchetConfig",
    "Hatchet",
    "HealthcheckConfig",
    "OpenTelemetryConfig",
    "TenacityConfig",
    # contexts
    "Context",
    "DurableContext",
    # runnables
    "Depends",
    "DefaultFilter",
    "EmptyModel",
    "EvictionPolicy",
    "Task",
    "TaskDefaults",
    "TaskRunRef",
    "WorkflowConfig",
    "WorkflowRunRef",
    # enums
    "ConcurrencyLimitStrategy",
    "Priority",
    "RateLimitDuration",
    "RunStatus",
    "SlotType",
    "StepRunEventType",
    "StickyStrategy",
    "V1TaskStatus",
    "WorkerLabelComparator",
    "WorkerStatus",
    "WorkflowRunEventType",
    # option models
    "BulkPushEventOptions",
    "BulkPushEventWithMetadata",
    "PushEventOptions",
    "BulkCancelReplayOpts",
    "CELEvaluationResult",
    "CELFailure",
    "CELSuccess",
    "RunFilter",
    "ConcurrencyExpression",
    "DesiredWorkerLabel",
    "RateLimit",
    "ScheduleTriggerWorkflowOptions",
    "StatusBasedIdempotencyConfig",
    "TTLBasedIdempotencyConfig",
    "TriggerWorkflowOptions",
    "WorkerLabel",
    "WorkflowRunTriggerConfig",
    # exceptions
    "BulkTriggerIdempotencyCollisionError",
    "DedupeViolationError",
    "EvictionNotSupportedError",
    "FailedTaskRunExceptionGroup",
    "HatchetCeleryError",
    "IdempotencyCollisionError",
    "NonDeterminismError",
    "NonRetryableException",
    "RetryAfterException",
    "TaskRunError",
    # worker
    "Worker",
    # serialization context of stored outputs
    "is_in_hatchet_serialization_context",
]
__all__ += _conditions.__all__  # conditions: Condition, OrGroup, or_...
