"""Idempotency keys: evaluate a workflow's key expression for a trigger.

The key itself is taken inside ``create_run.lua``, in the same step that creates the run,
so two triggers that race for one key make exactly one run. Keys live per namespace, not
per workflow, as in Hatchet (one tenant-wide key space): two workflows whose expressions
yield the same key share it. A TTL key stays taken for its TTL; a status-based key stays
taken until its run finishes (completed, failed after its last retry, or cancelled) and
at most for its fallback TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hatchet_celery._cel import CelEvaluationError, cel_key, compile_cel

CEL_VARIABLES = ("input", "additional_metadata")
# Hatchet reserves this prefix for keys of its own.
RESERVED_PREFIX = "hatchet_internal_"


@dataclass(frozen=True)
class IdempotencySpec:
    """What run creation needs of a workflow's ``idempotency=`` (JSON-able, so a process
    without the declaration reads it from the shape a worker registered)."""

    method: str  # "TTL" | "STATUS"
    expression: str
    ttl_ms: int

    @classmethod
    def of(cls, config: Any) -> IdempotencySpec | None:
        if config is None:
            return None
        return cls(config.method.value, config.key_expression, config.ttl_ms)

    @classmethod
    def from_json(cls, data: Any) -> IdempotencySpec | None:
        if not data:
            return None
        return cls(str(data[0]), str(data[1]), int(data[2]))

    def to_json(self) -> list[Any]:
        return [self.method, self.expression, self.ttl_ms]

    def key(self, workflow: str, input: Any, metadata: dict[str, Any]) -> str:
        """The key of one trigger; an expression that fails, or yields a reserved key, is an
        error naming the workflow and the expression."""
        what = f"idempotency key of workflow {workflow!r}"
        program = compile_cel(self.expression, what=what, variables=CEL_VARIABLES)
        key = cel_key(program, {"input": input, "additional_metadata": metadata}, what=what)
        if key.startswith(RESERVED_PREFIX):
            raise CelEvaluationError(
                self.expression,
                f"key {key!r} uses the reserved prefix {RESERVED_PREFIX!r}",
                what=what,
            )
        return key


__all__ = ["IdempotencySpec"]
