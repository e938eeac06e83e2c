"""REST models at the paths of ``hatchet_sdk.clients.rest.models``."""

from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta
from hatchet_celery.clients.rest.models.cron_workflows import CronWorkflows
from hatchet_celery.clients.rest.models.cron_workflows_list import CronWorkflowsList
from hatchet_celery.clients.rest.models.cron_workflows_method import CronWorkflowsMethod
from hatchet_celery.clients.rest.models.job_run_status import JobRunStatus
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.rate_limit import RateLimit
from hatchet_celery.clients.rest.models.rate_limit_list import RateLimitList
from hatchet_celery.clients.rest.models.scheduled_run_status import ScheduledRunStatus
from hatchet_celery.clients.rest.models.scheduled_workflows import ScheduledWorkflows
from hatchet_celery.clients.rest.models.scheduled_workflows_list import ScheduledWorkflowsList
from hatchet_celery.clients.rest.models.scheduled_workflows_method import ScheduledWorkflowsMethod
from hatchet_celery.clients.rest.models.step_run_status import StepRunStatus
from hatchet_celery.clients.rest.models.update_worker_request import UpdateWorkerRequest
from hatchet_celery.clients.rest.models.v1_create_webhook_request import V1CreateWebhookRequest
from hatchet_celery.clients.rest.models.v1_create_webhook_request_api_key import (
    V1CreateWebhookRequestAPIKey,
)
from hatchet_celery.clients.rest.models.v1_create_webhook_request_base import (
    V1CreateWebhookRequestBase,
)
from hatchet_celery.clients.rest.models.v1_create_webhook_request_basic_auth import (
    V1CreateWebhookRequestBasicAuth,
)
from hatchet_celery.clients.rest.models.v1_create_webhook_request_hmac import (
    V1CreateWebhookRequestHMAC,
)
from hatchet_celery.clients.rest.models.v1_event import V1Event
from hatchet_celery.clients.rest.models.v1_event_list import V1EventList
from hatchet_celery.clients.rest.models.v1_event_triggered_run import V1EventTriggeredRun
from hatchet_celery.clients.rest.models.v1_event_workflow_run_summary import (
    V1EventWorkflowRunSummary,
)
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
from hatchet_celery.clients.rest.models.v1_update_webhook_request import V1UpdateWebhookRequest
from hatchet_celery.clients.rest.models.v1_webhook import V1Webhook
from hatchet_celery.clients.rest.models.v1_webhook_api_key_auth import V1WebhookAPIKeyAuth
from hatchet_celery.clients.rest.models.v1_webhook_auth_type import V1WebhookAuthType
from hatchet_celery.clients.rest.models.v1_webhook_basic_auth import V1WebhookBasicAuth
from hatchet_celery.clients.rest.models.v1_webhook_hmac_algorithm import V1WebhookHMACAlgorithm
from hatchet_celery.clients.rest.models.v1_webhook_hmac_auth import V1WebhookHMACAuth
from hatchet_celery.clients.rest.models.v1_webhook_hmac_encoding import V1WebhookHMACEncoding
from hatchet_celery.clients.rest.models.v1_webhook_list import V1WebhookList
from hatchet_celery.clients.rest.models.v1_webhook_response import V1WebhookResponse
from hatchet_celery.clients.rest.models.v1_webhook_source_name import V1WebhookSourceName
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

__all__ = [
    "APIResourceMeta",
    "CronWorkflows",
    "CronWorkflowsList",
    "CronWorkflowsMethod",
    "JobRunStatus",
    "PaginationResponse",
    "RateLimit",
    "RateLimitList",
    "ScheduledRunStatus",
    "ScheduledWorkflows",
    "ScheduledWorkflowsList",
    "ScheduledWorkflowsMethod",
    "StepRunStatus",
    "UpdateWorkerRequest",
    "V1CreateWebhookRequest",
    "V1CreateWebhookRequestAPIKey",
    "V1CreateWebhookRequestBase",
    "V1CreateWebhookRequestBasicAuth",
    "V1CreateWebhookRequestHMAC",
    "V1Event",
    "V1EventList",
    "V1EventTriggeredRun",
    "V1EventWorkflowRunSummary",
    "V1Filter",
    "V1FilterList",
    "V1LogLine",
    "V1LogLineLevel",
    "V1LogLineList",
    "V1TaskEvent",
    "V1TaskEventType",
    "V1TaskStatus",
    "V1TaskSummary",
    "V1TaskSummaryList",
    "V1UpdateFilterRequest",
    "V1UpdateWebhookRequest",
    "V1Webhook",
    "V1WebhookAPIKeyAuth",
    "V1WebhookAuthType",
    "V1WebhookBasicAuth",
    "V1WebhookHMACAlgorithm",
    "V1WebhookHMACAuth",
    "V1WebhookHMACEncoding",
    "V1WebhookList",
    "V1WebhookResponse",
    "V1WebhookSourceName",
    "V1WorkflowRun",
    "V1WorkflowRunDetails",
    "V1WorkflowType",
    "Worker",
    "WorkerLabel",
    "WorkerList",
    "WorkerSlotConfig",
    "WorkerStatus",
    "WorkerType",
    "Workflow",
    "WorkflowList",
    "WorkflowPauseScheduledCronRunQueueBehavior",
    "WorkflowRunStatus",
]
