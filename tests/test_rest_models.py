"""REST models, run-detail models and enums exist at Hatchet's import paths with its values."""

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest

from hatchet_celery.clients.admin import (
    RunStatus,
    ScheduleTriggerWorkflowOptions,
    TaskRunDetail,
    TriggerWorkflowOptions,
    WorkflowRunDetail,
    WorkflowRunTriggerConfig,
)
from hatchet_celery.clients.listeners.run_event_listener import (
    StepRunEventType,
    WorkflowRunEventType,
)
from hatchet_celery.clients.rest import models
from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta
from hatchet_celery.clients.rest.models.cron_workflows import CronWorkflows, CronWorkflowsMethod
from hatchet_celery.clients.rest.models.cron_workflows_list import CronWorkflowsList
from hatchet_celery.clients.rest.models.job_run_status import JobRunStatus
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.rate_limit import RateLimit
from hatchet_celery.clients.rest.models.rate_limit_list import RateLimitList
from hatchet_celery.clients.rest.models.scheduled_run_status import ScheduledRunStatus
from hatchet_celery.clients.rest.models.scheduled_workflows import ScheduledWorkflows
from hatchet_celery.clients.rest.models.scheduled_workflows_list import ScheduledWorkflowsList
from hatchet_celery.clients.rest.models.scheduled_workflows_method import (
    ScheduledWorkflowsMethod,
)
from hatchet_celery.clients.rest.models.step_run_status import StepRunStatus
from hatchet_celery.clients.rest.models.update_worker_request import UpdateWorkerRequest
from hatchet_celery.clients.rest.models.v1_event import V1Event
from hatchet_celery.clients.rest.models.v1_event_list import V1EventList
from hatchet_celery.clients.rest.models.v1_event_triggered_run import V1EventTriggeredRun
from hatchet_celery.clients.rest.models.v1_filter import V1Filter
from hatchet_celery.clients.rest.models.v1_filter_list import V1FilterList
from hatchet_celery.clients.rest.models.v1_log_line import V1LogLine
from hatchet_celery.clients.rest.models.v1_log_line_level import V1LogLineLevel
from hatchet_celery.clients.rest.models.v1_log_line_list import V1LogLineList
from hatchet_celery.clients.rest.models.v1_task_event import V1TaskEvent
from hatchet_celery.clients.rest.models.v1_task_event_type import V1TaskEventType
from hatchet_celery.clients.rest.models.v1_task_status import V1TaskStatus
from hatchet_celery.clients.rest.models.v1_task_summary import V1TaskSummary
from hatchet_celery.clients.rest.models.v1_task_summary_list import V1TaskSummaryList
from hatchet_celery.clients.rest.models.v1_update_filter_request import V1UpdateFilterRequest
from hatchet_celery.clients.rest.models.v1_workflow_run import V1WorkflowRun
from hatchet_celery.clients.rest.models.v1_workflow_run_details import V1WorkflowRunDetails
from hatchet_celery.clients.rest.models.v1_workflow_type import V1WorkflowType
from hatchet_celery.clients.rest.models.worker import Worker
from hatchet_celery.clients.rest.models.worker_label import WorkerLabel
from hatchet_celery.clients.rest.models.worker_list import WorkerList
from hatchet_celery.clients.rest.models.worker_slot_config import WorkerSlotConfig
from hatchet_celery.clients.rest.models.worker_status import WorkerStatus
from hatchet_celery.clients.rest.models.worker_type import WorkerType
from hatchet_celery.clients.rest.models.workflow import Workflow
from hatchet_celery.clients.rest.models.workflow_list import WorkflowList
from hatchet_celery.clients.rest.models.workflow_pause_scheduled_cron_run_queue_behavior import (
    WorkflowPauseScheduledCronRunQueueBehavior,
)
from hatchet_celery.clients.rest.models.workflow_run_status import WorkflowRunStatus
from hatchet_celery.labels import DesiredWorkerLabel

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
META = APIResourceMeta(id="00000000-0000-0000-0000-000000000001", created_at=NOW, updated_at=NOW)

# Values of hatchet-sdk 1.43.1, in its declaration order.
ENUM_VALUES: list[tuple[type[Enum], list[str]]] = [
    (V1TaskStatus, ["QUEUED", "RUNNING", "COMPLETED", "CANCELLED", "FAILED"]),
    (RunStatus, ["QUEUED", "RUNNING", "COMPLETED", "CANCELLED", "FAILED"]),
    (
        V1TaskEventType,
        [
            "REQUEUED_NO_WORKER",
            "REQUEUED_RATE_LIMIT",
            "SCHEDULING_TIMED_OUT",
            "ASSIGNED",
            "STARTED",
            "FINISHED",
            "FAILED",
            "RETRYING",
            "CANCELLED",
            "TIMED_OUT",
            "REASSIGNED",
            "SLOT_RELEASED",
            "TIMEOUT_REFRESHED",
            "RETRIED_BY_USER",
            "SENT_TO_WORKER",
            "RATE_LIMIT_ERROR",
            "ACKNOWLEDGED",
            "CREATED",
            "QUEUED",
            "SKIPPED",
            "WAITING_FOR_BATCH",
            "BATCH_FLUSHED",
            "COULD_NOT_SEND_TO_WORKER",
            "DURABLE_EVICTED",
            "DURABLE_RESTORING",
        ],
    ),
    (
        StepRunEventType,
        [
            "STEP_RUN_EVENT_TYPE_STARTED",
            "STEP_RUN_EVENT_TYPE_COMPLETED",
            "STEP_RUN_EVENT_TYPE_FAILED",
            "STEP_RUN_EVENT_TYPE_CANCELLED",
            "STEP_RUN_EVENT_TYPE_TIMED_OUT",
            "STEP_RUN_EVENT_TYPE_STREAM",
        ],
    ),
    (
        WorkflowRunEventType,
        [
            "WORKFLOW_RUN_EVENT_TYPE_STARTED",
            "WORKFLOW_RUN_EVENT_TYPE_COMPLETED",
            "WORKFLOW_RUN_EVENT_TYPE_FAILED",
            "WORKFLOW_RUN_EVENT_TYPE_CANCELLED",
            "WORKFLOW_RUN_EVENT_TYPE_TIMED_OUT",
        ],
    ),
    (
        ScheduledRunStatus,
        ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "QUEUED", "SCHEDULED"],
    ),
    (
        WorkflowRunStatus,
        ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "QUEUED", "BACKOFF"],
    ),
    (
        StepRunStatus,
        [
            "PENDING",
            "PENDING_ASSIGNMENT",
            "ASSIGNED",
            "RUNNING",
            "SUCCEEDED",
            "FAILED",
            "CANCELLED",
            "CANCELLING",
            "BACKOFF",
        ],
    ),
    (JobRunStatus, ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "BACKOFF"]),
    (CronWorkflowsMethod, ["DEFAULT", "API"]),
    (ScheduledWorkflowsMethod, ["DEFAULT", "API"]),
    (WorkerStatus, ["ACTIVE", "INACTIVE", "PAUSED"]),
    (WorkerType, ["SELFHOSTED", "MANAGED", "WEBHOOK"]),
    (V1WorkflowType, ["DAG", "TASK"]),
    (V1LogLineLevel, ["DEBUG", "INFO", "WARN", "ERROR"]),
    (WorkflowPauseScheduledCronRunQueueBehavior, ["DROP", "QUEUE"]),
]


@pytest.mark.parametrize(("enum", "values"), ENUM_VALUES, ids=lambda x: getattr(x, "__name__", ""))
def test_enum_values_match_hatchet(enum: type[Enum], values: list[str]) -> None:
    assert [member.value for member in enum] == values
    assert [member.name for member in enum] == values
    assert all(isinstance(member, str) for member in enum)


def test_str_enums_behave_like_hatchet_str_enum_mixins() -> None:
    assert V1TaskStatus.FAILED == "FAILED"
    assert V1TaskStatus("COMPLETED") is V1TaskStatus.COMPLETED
    # (str, Enum) rather than StrEnum: str() shows the qualified name, as in hatchet_sdk.
    assert str(V1TaskStatus.FAILED) == "V1TaskStatus.FAILED"
    assert WorkerStatus.ACTIVE == "ACTIVE"


def test_run_status_and_v1_task_status_correspond() -> None:
    assert [s.value for s in RunStatus] == [s.value for s in V1TaskStatus]
    for status in V1TaskStatus:
        run_status = RunStatus.from_v1_task_status(status)
        assert run_status.value == status.value
        assert run_status.to_v1_task_status() is status
        assert run_status == status.value


def test_task_summary_minimal_and_nested_children() -> None:
    child = V1TaskSummary(
        metadata=META,
        created_at=NOW,
        display_name="child-1735787045",
        status=V1TaskStatus.COMPLETED,
        task_external_id=META.id,
        workflow_id="wf",
        workflow_run_external_id="run",
        output={"ok": True},
    )
    parent = V1TaskSummary(
        metadata=META,
        created_at=NOW,
        display_name="parent-1735787045",
        status=V1TaskStatus.RUNNING,
        task_external_id=META.id,
        workflow_id="wf",
        workflow_run_external_id="run",
        children=[child],
    )
    assert parent.children is not None and parent.children[0].output == {"ok": True}
    assert parent.input == {} and parent.output is None
    assert parent.tenant_id == "" and parent.num_spawned_children == 0
    assert parent.retry_count is None and parent.additional_metadata is None
    listing = V1TaskSummaryList(rows=[parent])
    assert listing.rows[0] is parent and listing.pagination.num_pages is None


def test_rest_models_accept_hatchet_wire_names() -> None:
    wire: dict[str, Any] = {
        "metadata": {"id": "t1", "createdAt": NOW.isoformat(), "updatedAt": NOW.isoformat()},
        "createdAt": NOW.isoformat(),
        "displayName": "step1-1",
        "status": "FAILED",
        "taskExternalId": "t1",
        "workflowId": "wf",
        "workflowRunExternalId": "run",
        "retryCount": 2,
        "input": {"x": 1},
        "output": {},
    }
    summary = V1TaskSummary.model_validate(wire)
    assert summary.status is V1TaskStatus.FAILED and summary.retry_count == 2
    assert summary.metadata.created_at == NOW
    dumped = summary.model_dump(by_alias=True)
    assert dumped["retryCount"] == 2 and dumped["metadata"]["createdAt"] == NOW
    assert summary.model_dump()["retry_count"] == 2
    page = PaginationResponse.model_validate({"current_page": 1, "num_pages": 3})
    assert page.model_dump(by_alias=True) == {"current_page": 1, "next_page": None, "num_pages": 3}


def test_workflow_run_details() -> None:
    run = V1WorkflowRun(
        metadata=META,
        status=V1TaskStatus.COMPLETED,
        display_name="wf-1",
        workflow_id="wf",
        output={"step1": {"a": 1}},
    )
    event = V1TaskEvent(id=1, task_id=META.id, timestamp=NOW, event_type=V1TaskEventType.RETRYING)
    details = V1WorkflowRunDetails(run=run, task_events=[event])
    assert details.run.output == {"step1": {"a": 1}} and details.run.input == {}
    assert details.task_events[0].event_type == V1TaskEventType.RETRYING
    assert details.task_events[0].message == "" and details.tasks == [] and details.shape == []
    assert details.workflow_config is None


def test_event_filter_and_log_models() -> None:
    event = V1Event(
        metadata=META,
        key="user:create",
        scope="tenant-a",
        triggered_runs=[V1EventTriggeredRun(workflow_run_id="run", filter_id=None)],
    )
    assert event.workflow_run_summary.running == 0 and event.triggering_webhook_name is None
    assert V1EventList(rows=[event]).rows == [event] and V1EventList().pagination is None

    flt = V1Filter(metadata=META, workflow_id="wf", scope="s", expression="input.x > 1")
    assert flt.payload == {} and flt.is_declarative is None
    assert V1FilterList(rows=[flt]).rows == [flt]
    assert V1UpdateFilterRequest(scope="t").expression is None

    line = V1LogLine(created_at=NOW, message="hello", level=V1LogLineLevel.INFO)
    assert line.metadata == {} and line.retry_count is None
    assert V1LogLineList(rows=[line]).rows == [line]


def test_worker_and_workflow_models() -> None:
    label = WorkerLabel(metadata=META, key="model", value="fancy-ai-model-v2")
    worker = Worker(
        metadata=META,
        name="e2e-test-worker",
        status=WorkerStatus.ACTIVE,
        labels=[label],
        slot_config={"default": WorkerSlotConfig(limit=100, available=99)},
    )
    assert worker.status == "ACTIVE" and worker.type is WorkerType.SELFHOSTED
    assert worker.labels is not None and worker.labels[0].key == "model"
    assert WorkerList(rows=[worker]).rows == [worker]
    assert UpdateWorkerRequest(is_paused=True).is_paused is True

    workflow = Workflow(metadata=META, name="simple")
    assert workflow.is_paused is None and workflow.tenant_id == ""
    assert WorkflowList(rows=[workflow]).rows == [workflow]


def test_cron_scheduled_and_rate_limit_models() -> None:
    cron = CronWorkflows(
        metadata=META,
        workflow_id="wf",
        workflow_name="cron-wf",
        cron="*/5 * * * *",
        method=CronWorkflowsMethod.API,
        name="every-five",
    )
    assert cron.enabled is True and cron.input is None and cron.priority is None
    assert CronWorkflowsList(rows=[cron]).rows == [cron]

    scheduled = ScheduledWorkflows(
        metadata=META,
        workflow_id="wf",
        workflow_name="wf",
        trigger_at=NOW,
        method=ScheduledWorkflowsMethod.API,
    )
    assert scheduled.workflow_run_id is None and scheduled.workflow_run_status is None
    assert ScheduledWorkflowsList(rows=[scheduled]).rows == [scheduled]

    bucket = RateLimit(key="k", limit_value=10, value=3, window="MINUTE", last_refill=NOW)
    assert RateLimitList(rows=[bucket]).rows == [bucket]


def test_run_detail_models() -> None:
    task = TaskRunDetail(
        external_id="t1", readable_id="step1", status=V1TaskStatus.COMPLETED, output={"a": 1}
    )
    assert task.error is None and task.is_evicted is False
    detail = WorkflowRunDetail(
        external_id="run", status=RunStatus.COMPLETED, task_runs={"step1": task}, done=True
    )
    assert detail.task_runs["step1"].output == {"a": 1}
    assert detail.input is None and detail.additional_metadata is None
    assert WorkflowRunDetail(external_id="r", status=RunStatus.QUEUED, task_runs={}).done is False


def test_trigger_options_defaults() -> None:
    schedule = ScheduleTriggerWorkflowOptions()
    assert schedule.model_dump() == {
        "parent_id": None,
        "parent_step_run_id": None,
        "child_index": None,
        "child_key": None,
        "namespace": None,
        "additional_metadata": {},
        "priority": None,
    }
    options = TriggerWorkflowOptions()
    assert options.sticky is False and options.desired_worker_id is None
    assert options.key is None and options.desired_worker_label is None
    assert isinstance(options, ScheduleTriggerWorkflowOptions)
    assert TriggerWorkflowOptions().additional_metadata is not options.additional_metadata

    labelled = TriggerWorkflowOptions(desired_worker_label=[DesiredWorkerLabel(key="k", value=1)])
    assert isinstance(labelled.desired_worker_label, list)

    item = WorkflowRunTriggerConfig(workflow_name="wf", input='{"a": 1}', options=options)
    assert item.key is None and item.options == options


def test_models_package_reexports_every_class() -> None:
    for name in models.__all__:
        assert isinstance(getattr(models, name), type)
    assert models.V1TaskStatus is V1TaskStatus
    assert models.V1WorkflowRunDetails is V1WorkflowRunDetails
