"""What creating a run needs to know of a workflow, from its declaration or from Redis
(``P:workflows``, written by each worker, so a process without the code can trigger it
by name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatchet_celery._runtime.core.derived import Derived
from hatchet_celery._runtime.core.idempotency import IdempotencySpec

if TYPE_CHECKING:
    from hatchet_celery.runnables.workflow import BaseWorkflow


@dataclass(frozen=True)
class TriggerTarget:
    """What creating a run needs to know of a workflow (from its declaration or Redis)."""

    name: str
    roots: tuple[tuple[str, float], ...]
    ntasks: int
    on_failure: str
    default_priority: int
    default_metadata: dict[str, Any]
    idempotency: IdempotencySpec | None = None
    others: tuple[str, ...] = ()  # every task of a run but the roots (task run index)

    @staticmethod
    def of(workflow: BaseWorkflow[Any]) -> TriggerTarget:
        """The target of a declared workflow, computed once per declaration (again if it
        got more tasks since)."""
        return _TARGETS(workflow)

    @classmethod
    def _declared(cls, workflow: BaseWorkflow[Any]) -> TriggerTarget:
        shape = workflow.compiled()
        tasks = workflow.task_map()
        target = cls(
            name=workflow.name,
            roots=tuple((n, tasks[n].schedule_timeout_s) for n in shape.roots),
            ntasks=shape.ntasks,
            on_failure=shape.on_failure,
            default_priority=int(workflow.config.default_priority),
            default_metadata=dict(workflow.config.default_additional_metadata),
            idempotency=IdempotencySpec.of(workflow.config.idempotency),
            others=tuple(n for n in shape.parents if n not in shape.roots),
        )
        return target

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> TriggerTarget:
        roots = {r for r, _ in data["roots"]}
        return cls(
            name=name,
            roots=tuple((r, float(s)) for r, s in data["roots"]),
            ntasks=int(data["ntasks"]),
            on_failure=data.get("on_failure", ""),
            default_priority=int(data.get("default_priority", 1)),
            default_metadata=dict(data.get("default_additional_metadata", {})),
            idempotency=IdempotencySpec.from_json(data.get("idempotency")),
            others=tuple(n for n in data.get("parents", {}) if n not in roots),
        )

    @staticmethod
    def to_json(workflow: BaseWorkflow[Any]) -> dict[str, Any]:
        """What a worker registers in Redis for ``trigger_by_name``."""
        target = TriggerTarget.of(workflow)
        return {
            "roots": [list(r) for r in target.roots],
            "ntasks": target.ntasks,
            "on_failure": target.on_failure,
            "default_priority": target.default_priority,
            "default_additional_metadata": target.default_metadata,
            "idempotency": target.idempotency.to_json() if target.idempotency else None,
            "tasks": [t.name for t in workflow.tasks],
            "on_events": list(workflow.config.on_events),
            "on_crons": list(workflow.config.on_crons),
            "input_validator": getattr(workflow.input_validator, "__name__", "dict"),
            # for cancel / replay from a process without the code (run_shape.py)
            "parents": {k: list(v) for k, v in workflow.compiled().parents.items()},
            "schedule_timeouts": {t.name: t.schedule_timeout_s for t in workflow.tasks},
        }


_TARGETS: Derived[BaseWorkflow[Any], TriggerTarget] = Derived(
    TriggerTarget._declared, current=lambda workflow, t: t.ntasks == len(workflow.tasks)
)
