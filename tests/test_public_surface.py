"""The public surface is pinned against Hatchet's (shared/hatchet-api.md §1 and §19).

``PROVIDED`` lists the names of §1 that a Hatchet program imports from the package root;
``NOT_PROVIDED`` the ones this backend leaves out, each with the reason. Every name of §1 (kept
in the repo as ``tests/data/hatchet_api_root_names.txt``) must be in one of the two lists, so the
surface cannot drift silently; when the shared document sits beside the repository (as in CI),
the pinned list is also checked against it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import hatchet_celery

PROVIDED = {
    "Hatchet", "ClientConfig", "Context", "DurableContext", "Task", "TaskRunRef",
    "WorkflowRunRef", "WorkflowConfig", "TaskDefaults", "DefaultFilter", "EmptyModel",
    "Depends", "EvictionPolicy", "Condition", "SleepCondition", "UserEventCondition",
    "ParentCondition", "OrGroup", "or_", "ConcurrencyLimitStrategy", "RateLimitDuration",
    "StickyStrategy", "Priority", "WorkerLabelComparator", "SlotType", "RunStatus",
    "V1TaskStatus", "StepRunEventType", "WorkflowRunEventType", "WorkerStatus",
    "ConcurrencyExpression", "RateLimit", "DesiredWorkerLabel", "WorkerLabel",
    "TriggerWorkflowOptions", "ScheduleTriggerWorkflowOptions", "WorkflowRunTriggerConfig",
    "TTLBasedIdempotencyConfig", "StatusBasedIdempotencyConfig", "NonRetryableException",
    "RetryAfterException", "TaskRunError", "FailedTaskRunExceptionGroup",
    "DedupeViolationError", "IdempotencyCollisionError", "BulkTriggerIdempotencyCollisionError",
    "NonDeterminismError", "EvictionNotSupportedError", "Worker", "PushEventOptions",
    "BulkPushEventOptions", "BulkPushEventWithMetadata", "RunFilter", "BulkCancelReplayOpts",
    "CELEvaluationResult", "CELSuccess", "CELFailure", "is_in_hatchet_serialization_context",
    # Hatchet's client settings: accepted with Hatchet's fields (test_client_config_fields)
    "ClientTLSConfig", "OpenTelemetryConfig", "HealthcheckConfig", "TenacityConfig",
    "EmbeddedHatchetConfig",
}

NOT_PROVIDED = {
    "WorkerContext": "deprecated helper",
    "WorkflowRunStatus": "legacy REST enum",
    "StepRunStatus": "legacy REST enum",
    "JobRunStatus": "legacy REST enum",
    "OTelAttribute": "OpenTelemetry is out of scope",
    "WorkerStartOptions": "deprecated",
    "RunEventListener": "streams are read with hatchet.runs.subscribe_to_stream",
    "remove_null_unicode_character": "not provided",
}

SUBMODULE_PATHS = {
    "hatchet_celery.clients.rest.models.v1_event": ["V1Event"],
    "hatchet_celery.clients.rest.models.v1_task_status": ["V1TaskStatus"],
    "hatchet_celery.clients.rest.models.v1_task_summary": ["V1TaskSummary"],
    "hatchet_celery.clients.rest.models.v1_task_summary_list": ["V1TaskSummaryList"],
    "hatchet_celery.clients.rest.models.v1_workflow_run_details": ["V1WorkflowRunDetails"],
    "hatchet_celery.clients.rest.models.v1_task_event_type": ["V1TaskEventType"],
    "hatchet_celery.runnables.workflow": ["BaseWorkflow", "Workflow", "Standalone", "TaskRunRef"],
    "hatchet_celery.runnables.task": ["Task", "Depends"],
    "hatchet_celery.runnables.types": ["EmptyModel", "BatchMemberId", "BatchTaskConfig"],
    "hatchet_celery.runnables.eviction": ["EvictionPolicy", "DEFAULT_DURABLE_TASK_EVICTION_POLICY"],
    "hatchet_celery.clients.rest.api.task_api": ["TaskApi"],
    "hatchet_celery.clients.rest.models.v1_restore_task_response": ["V1RestoreTaskResponse"],
    "hatchet_celery.clients.rest.models.v1_branch_durable_task_response": [
        "V1BranchDurableTaskResponse"
    ],
    "hatchet_celery.clients.admin": ["RunStatus"],
    "hatchet_celery.exceptions": [
        "FailedTaskRunExceptionGroup", "NonDeterminismError", "NonRetryableException",
        "TaskRunError",
    ],
    "hatchet_celery.labels": ["DesiredWorkerLabel", "WorkerLabel"],
    "hatchet_celery.rate_limit": ["RateLimit", "RateLimitDuration"],
    "hatchet_celery.workflow_run": ["WorkflowRunRef"],
    "hatchet_celery.clients.listeners.run_event_listener": ["StepRunEventType"],
    "hatchet_celery.serde": ["HATCHET_PYDANTIC_SENTINEL", "is_in_hatchet_serialization_context"],
    "hatchet_celery.runnables.contextvars": [
        "ctx_action_key", "ctx_workflow_run_id", "ctx_step_run_id", "ctx_worker_id",
        "ctx_additional_metadata", "ctx_task_retry_count", "ctx_durable_context",
        "ctx_hatchet_context", "workflow_spawn_indices", "spawn_index_lock",
    ],
}


def test_root_exports_every_provided_name() -> None:
    missing = sorted(n for n in PROVIDED if not hasattr(hatchet_celery, n))
    assert missing == []
    assert set(hatchet_celery.__all__) >= PROVIDED


@pytest.mark.parametrize("module", sorted(SUBMODULE_PATHS))
def test_hatchet_submodule_paths_exist(module: str) -> None:
    mod = importlib.import_module(module)
    for name in SUBMODULE_PATHS[module]:
        assert hasattr(mod, name), f"{module}.{name}"


def test_generic_classes_can_be_subscripted_at_import_time() -> None:
    from hatchet_celery.runnables.workflow import BaseWorkflow, Standalone

    assert hatchet_celery.Task[hatchet_celery.EmptyModel, dict] is not None  # type: ignore[misc]
    assert Standalone[hatchet_celery.EmptyModel, dict] is not None  # type: ignore[misc]
    assert hatchet_celery.TaskRunRef[hatchet_celery.EmptyModel, dict] is not None  # type: ignore[misc]
    assert BaseWorkflow[hatchet_celery.EmptyModel] is not None


def test_no_and_condition_exists_as_in_hatchet() -> None:
    assert not hasattr(hatchet_celery, "and_")


def _section_one_names(text: str) -> set[str]:
    section = text.split("## 1.", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| Group") or line.startswith("|---"):
            continue
        cells = line.split("|")
        if len(cells) < 3 or cells[1].strip() == "Misc":
            continue
        names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[2]))
    names.discard("and_")  # listed as "no and_"
    return names


PINNED = Path(__file__).resolve().parent / "data" / "hatchet_api_root_names.txt"


def _pinned_names() -> set[str]:
    lines = PINNED.read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_every_name_of_hatchets_root_is_accounted_for() -> None:
    """Every name of Hatchet's package root (the in-repo copy of §1's list) is provided or
    left out with a reason: the surface cannot drift silently."""
    names = _pinned_names()
    assert len(names) > 40
    unaccounted = sorted(names - PROVIDED - set(NOT_PROVIDED))
    assert unaccounted == []


def test_the_pinned_names_match_the_shared_reference() -> None:
    """The in-repo list is §1 of shared/hatchet-api.md (beside the checkout in CI)."""
    doc = Path(__file__).resolve().parents[2] / "shared" / "hatchet-api.md"
    if not doc.exists():
        pytest.skip("shared/hatchet-api.md is not beside this checkout; the pinned list is used")
    assert _section_one_names(doc.read_text()) == _pinned_names(), (
        f"§1 changed: regenerate {PINNED.name} from it"
    )


# hatchet-sdk 1.43.1's ClientConfig: every field with its default (nested settings by their
# own fields). Fields with no effect here are in hatchet_celery.config.IGNORED.
HATCHET_CLIENT_CONFIG = {
    "token": "", "debug": False, "tenant_id": "", "host_port": "localhost:7070",
    "namespace": "", "listener_v2_timeout": None,
    "grpc_max_recv_message_length": 4 * 1024 * 1024,
    "grpc_max_send_message_length": 4 * 1024 * 1024, "worker_preset_labels": {},
    "enable_force_kill_sync_threads": False, "enable_thread_pool_monitoring": False,
    "terminate_worker_after_num_tasks": None, "disable_log_capture": False,
    "log_queue_size": 1000, "force_shutdown_on_shutdown_signal": False, "embedded": None,
    "sync_result_poll_interval": 1.0,
}
HATCHET_NESTED = {
    "tls_config": {"strategy": "tls", "cert_file": None, "key_file": None,
                   "root_ca_file": None, "server_name": ""},
    "healthcheck": {"port": 8001, "enabled": False, "bind_address": "0.0.0.0"},
    "otel": {"excluded_attributes": [], "include_task_name_in_start_step_run_span_name": False,
             "individual_run_spans_for_bulk_run": False},
    "tenacity": {"max_attempts": 5, "retry_429": False, "retry_not_found": False,
                 "retry_transport_errors": False},
}


def test_client_config_has_every_field_of_hatchets_with_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import logging
    from datetime import timedelta

    for var in ("NAMESPACE", "WORKER_HEALTHCHECK_ENABLED", "WORKER_HEALTHCHECK_PORT",
                "WORKER_HEALTHCHECK_BIND_ADDRESS", "TERMINATE_WORKER_AFTER_NUM_TASKS"):
        monkeypatch.delenv(f"HATCHET_CLIENT_{var}", raising=False)
    config = hatchet_celery.ClientConfig()
    for name, default in HATCHET_CLIENT_CONFIG.items():
        assert getattr(config, name) == default, name
    for name, fields in HATCHET_NESTED.items():
        for field, default in fields.items():
            assert getattr(getattr(config, name), field) == default, f"{name}.{field}"
    assert isinstance(config.logger, logging.Logger)
    assert config.healthcheck.event_loop_block_threshold_seconds == timedelta(seconds=5)
    assert [m.value for m in config.tenacity.retry_transport_methods] == ["GET", "DELETE"]
    assert hatchet_celery.EmbeddedHatchetConfig().ready_timeout_seconds == 300.0
    threshold = hatchet_celery.HealthcheckConfig(event_loop_block_threshold_seconds="2.5s")
    assert threshold.event_loop_block_threshold_seconds == timedelta(seconds=2.5)


def test_a_setting_with_no_effect_here_warns_once_naming_the_field() -> None:
    from hatchet_celery import config as config_module

    config_module._warned.discard("tls_config")
    tls = hatchet_celery.ClientTLSConfig(strategy="none")
    with pytest.warns(config_module.IgnoredSettingWarning, match=r"ClientConfig\.tls_config"):
        hatchet_celery.ClientConfig(tls_config=tls)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hatchet_celery.ClientConfig(tls_config=tls)  # once per process
        hatchet_celery.ClientConfig(tls_config=hatchet_celery.ClientTLSConfig())  # the default
    assert set(config_module.IGNORED) < set(hatchet_celery.ClientConfig.model_fields)


def test_healthcheck_and_worker_settings_reach_the_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HATCHET_CLIENT_WORKER_HEALTHCHECK_ENABLED", "true")
    monkeypatch.setenv("HATCHET_CLIENT_WORKER_HEALTHCHECK_PORT", "8123")
    config = hatchet_celery.ClientConfig(terminate_worker_after_num_tasks=50)
    assert (config.healthcheck.enabled, config.healthcheck.port) == (True, 8123)
    backend = config.backend()
    assert backend.healthcheck_enabled and backend.healthcheck_port == 8123
    assert backend.terminate_worker_after_num_tasks == 50
