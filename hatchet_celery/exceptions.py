"""Errors raised by hatchet_celery.

Every error the package defines descends from ``HatchetCeleryError``; Hatchet's public
names keep their Hatchet bases too, so ``except ValueError`` written for hatchet_sdk
still catches ``FailedTaskRunExceptionGroup``::

    HatchetCeleryError
    ├── ConfigurationError
    ├── DeclarationError (ValueError)       bad decorator arguments, caught at import
    │   └── CelCompileError                 a CEL expression that does not compile
    ├── NonRetryableException               raise in a task: no further attempts
    │   └── EvictionNotSupportedError
    ├── RetryAfterException
    ├── TaskRunError                        one task run's failure, as the caller sees it
    ├── FailedTaskRunExceptionGroup (ValueError)
    ├── RunCancelledError (ValueError)      ``ref.result()`` on a cancelled run
    ├── RunNotFoundError (ValueError)
    ├── WorkflowNotFoundError (ValueError)  trigger by name of an unknown workflow
    ├── TriggerNotFoundError (ValueError)   no cron / scheduled run with that id
    ├── RateLimitExceededError (ValueError) a task needs more units than a rate limit has
    ├── ConcurrencyKeyError                 a concurrency key or max_runs did not evaluate
    ├── DedupeViolationError
    ├── IdempotencyCollisionError           a trigger's idempotency key is held by a run
    ├── BulkTriggerIdempotencyCollisionError  some items of a bulk trigger collided
    ├── NonDeterminismError                 a durable replay took another path
    ├── IllegalTaskOutputError              a task returned something not JSON-object-like
    ├── TaskTimeoutError                    execution_timeout exceeded
    ├── InvalidDependencyError
    ├── LifespanSetupError
    └── LoopAlreadyRunningError
"""

from __future__ import annotations

import json
import traceback as _traceback
from typing import Any


class HatchetCeleryError(Exception):
    """Root of every error defined by hatchet_celery."""


class ConfigurationError(HatchetCeleryError):
    """The package cannot find or reach what its configuration names."""


class DeclarationError(HatchetCeleryError, ValueError):
    """A workflow or task declaration is invalid (raised at decoration time)."""


class CelCompileError(DeclarationError):
    """A CEL expression failed to compile; the message names the expression."""


class NonRetryableException(HatchetCeleryError):
    """Raised inside a task: the task fails at once, remaining retries unused."""


class EvictionNotSupportedError(NonRetryableException):
    """Durable eviction is a Hatchet engine feature this backend does not have."""


class RetryAfterException(HatchetCeleryError):
    """Fail this attempt and retry after ``after`` (counts against ``retries``)."""

    def __init__(self, message: str = "", *, after: Any) -> None:
        super().__init__(message)
        self.after = after


class IllegalTaskOutputError(HatchetCeleryError):
    """A task returned a value that is not a dict, pydantic model, dataclass or None."""


class TaskTimeoutError(HatchetCeleryError):
    """The task ran longer than its execution timeout."""


class InvalidDependencyError(HatchetCeleryError):
    """A ``Depends`` declaration cannot be resolved."""


class LifespanSetupError(HatchetCeleryError):
    """The worker's lifespan generator failed before yielding."""


class LoopAlreadyRunningError(HatchetCeleryError):
    """``Worker.start()`` was called from inside a running event loop."""


class DedupeViolationError(HatchetCeleryError):
    """A trigger collided with an existing run's dedupe key."""


class IdempotencyCollisionError(HatchetCeleryError):
    """The trigger's idempotency key is held by ``existing_run_external_id``: no run made."""

    def __init__(self, existing_run_external_id: str) -> None:
        super().__init__(
            f"idempotency key collision: the key is held by run {existing_run_external_id}"
        )
        self.existing_run_external_id = existing_run_external_id


class BulkTriggerIdempotencyCollisionError(HatchetCeleryError):
    """Some items of a bulk trigger collided; the others were created (and are running)."""

    def __init__(
        self,
        successful_workflow_run_external_ids: list[str],
        collisions: list[IdempotencyCollisionError],
    ) -> None:
        held = ", ".join(c.existing_run_external_id for c in collisions)
        super().__init__(
            f"{len(collisions)} item(s) of the bulk trigger collided on idempotency keys "
            f"held by run(s) {held}; {len(successful_workflow_run_external_ids)} run(s) created"
        )
        self.successful_workflow_run_external_ids = successful_workflow_run_external_ids
        self.collisions = collisions


class NonDeterminismError(HatchetCeleryError):
    """A durable task's replay reached a checkpoint of another kind than recorded."""

    def __init__(
        self,
        task_external_id: str,
        invocation_count: int,
        message: str,
        node_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.task_external_id = task_external_id
        self.invocation_count = invocation_count
        self.message = message
        self.node_id = node_id


class RunCancelledError(HatchetCeleryError, ValueError):
    """``result()`` of a run that was cancelled (Hatchet raises a ValueError)."""


class RunNotFoundError(HatchetCeleryError, ValueError):
    """No run with this id exists (or it expired after the retention period)."""


class WorkflowNotFoundError(HatchetCeleryError, ValueError):
    """No declaration in this process and no worker registered the workflow in Redis."""


class TriggerNotFoundError(HatchetCeleryError, ValueError):
    """No cron trigger or scheduled run has this id (deleted, or expired after firing)."""


class RateLimitExceededError(HatchetCeleryError, ValueError):
    """A task needs more units of a rate limit than the limit itself: it could never run."""


class ConcurrencyKeyError(HatchetCeleryError):
    """A concurrency expression could not be evaluated for a run."""


class TaskRunError(HatchetCeleryError):
    """One task run's failure: exception type, message and traceback text.

    ``str()`` is ``"<Type>: <message>\\n<traceback>"`` as in Hatchet, so code that parses
    Hatchet's error strings keeps working.
    """

    def __init__(
        self,
        exc: str,
        exc_type: str,
        trace: str,
        task_run_external_id: str | None = None,
        task_name: str | None = None,
    ) -> None:
        self.exc = exc
        self.exc_type = exc_type
        self.trace = trace
        self.task_run_external_id = task_run_external_id
        self.task_name = task_name
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.exc_type}: {self.exc}\n{self.trace}".rstrip("\n")

    def __repr__(self) -> str:
        return f"TaskRunError(task={self.task_name!r}, {self.exc_type}: {self.exc})"

    def serialize(self, include_metadata: bool = False) -> str:
        text = str(self)
        if include_metadata and self.task_run_external_id:
            text += "\n\n" + json.dumps({"task_run_external_id": self.task_run_external_id})
        return text

    @classmethod
    def deserialize(cls, serialized: str) -> TaskRunError:
        """Parse ``"<Type>: <msg>\\n<trace>"``; anything else becomes a ``HatchetError``."""
        task_run_external_id = None
        body = serialized
        head, sep, tail = serialized.rpartition("\n\n")
        if sep and tail.startswith("{"):
            try:
                meta = json.loads(tail)
                task_run_external_id = meta.get("task_run_external_id")
                body = head
            except ValueError:
                pass
        first, _, trace = body.partition("\n")
        exc_type, colon, message = first.partition(": ")
        if not colon or not exc_type or " " in exc_type:
            return cls(body, "HatchetError", "", task_run_external_id)
        return cls(message, exc_type, trace, task_run_external_id)

    @classmethod
    def from_exception(
        cls, exc: BaseException, task_run_external_id: str | None = None
    ) -> TaskRunError:
        trace = "".join(_traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(str(exc), type(exc).__name__, trace, task_run_external_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.exc,
            "type": self.exc_type,
            "trace": self.trace,
            "task_run_id": self.task_run_external_id,
            "task": self.task_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskRunError:
        return cls(
            data.get("message", ""),
            data.get("type", "HatchetError"),
            data.get("trace", ""),
            data.get("task_run_id"),
            data.get("task"),
        )


class FailedTaskRunExceptionGroup(HatchetCeleryError, ValueError):
    """A run failed; ``exceptions`` holds one ``TaskRunError`` per failed task."""

    def __init__(self, message: str, exceptions: list[TaskRunError]) -> None:
        self.message = message
        self.exceptions = list(exceptions)
        super().__init__(message)

    def __str__(self) -> str:
        lines = [self.message]
        for e in self.exceptions:
            name = f"[{e.task_name}] " if e.task_name else ""
            lines.append(f"  {name}{e.exc_type}: {e.exc}")
        return "\n".join(lines)


__all__ = [
    "BulkTriggerIdempotencyCollisionError",
    "CelCompileError",
    "ConcurrencyKeyError",
    "ConfigurationError",
    "DeclarationError",
    "DedupeViolationError",
    "EvictionNotSupportedError",
    "FailedTaskRunExceptionGroup",
    "HatchetCeleryError",
    "IdempotencyCollisionError",
    "IllegalTaskOutputError",
    "InvalidDependencyError",
    "LifespanSetupError",
    "LoopAlreadyRunningError",
    "NonDeterminismError",
    "NonRetryableException",
    "RateLimitExceededError",
    "RetryAfterException",
    "RunCancelledError",
    "RunNotFoundError",
    "TaskRunError",
    "TaskTimeoutError",
    "TriggerNotFoundError",
    "WorkflowNotFoundError",
]
