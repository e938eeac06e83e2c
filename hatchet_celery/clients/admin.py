"""Run statuses, run-detail models and trigger options, at Hatchet's ``clients.admin`` path."""

from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from hatchet_celery.clients.rest.models.v1_task_status import V1TaskStatus
from hatchet_celery.labels import DesiredWorkerLabel


class RunStatus(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Status of a workflow run (same five values as ``V1TaskStatus``)."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    @classmethod
    def from_v1_task_status(cls, v1_task_status: V1TaskStatus) -> "RunStatus":
        """The run status with the same name as ``v1_task_status``."""
        return cls(V1TaskStatus(v1_task_status).value)

    def to_v1_task_status(self) -> V1TaskStatus:
        """The ``V1TaskStatus`` with the same name."""
        return V1TaskStatus(self.value)


class TaskRunDetail(BaseModel):
    """One task run of a workflow run, keyed by ``readable_id`` in ``WorkflowRunDetail``."""

    external_id: str
    readable_id: str
    output: dict[str, Any] | None = None
    error: str | None = None
    status: V1TaskStatus
    is_evicted: bool = False


class WorkflowRunDetail(BaseModel):
    """Result of ``hatchet.runs.get_details``; ``task_runs`` holds the tasks created so far."""

    external_id: str
    status: RunStatus
    input: dict[str, Any] | None = None
    additional_metadata: dict[str, Any] | None = None
    task_runs: dict[str, TaskRunDetail]
    done: bool = False


class ScheduleTriggerWorkflowOptions(BaseModel):
    """Options of ``schedule()``; the ``parent_*``/``child_*`` fields link a child run."""

    parent_id: str | None = None
    parent_step_run_id: str | None = None
    child_index: int | None = None
    child_key: str | None = None
    namespace: str | None = None
    additional_metadata: dict[str, Any] = Field(default_factory=dict)
    priority: int | None = None


class TriggerWorkflowOptions(ScheduleTriggerWorkflowOptions):
    """Options of ``run()`` (deprecated there in favour of keywords) and of bulk run items.

    ``desired_worker_id`` counts only with ``sticky=True``; ``key`` is an identifier only.
    ``desired_worker_label`` (singular, as in Hatchet) is a list, or a deprecated dict by key.
    """

    desired_worker_id: str | None = None
    sticky: bool = False
    key: str | None = None
    desired_worker_label: dict[str, DesiredWorkerLabel] | list[DesiredWorkerLabel] | None = None


class WorkflowRunTriggerConfig(BaseModel):
    """One item of ``run_many``, as made by ``create_bulk_run_item``; ``input`` is JSON text."""

    workflow_name: str
    input: str | None
    options: TriggerWorkflowOptions
    key: str | None = None
