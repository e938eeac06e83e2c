"""Span attribute names and the tracing settings, as Hatchet's SDK names them.

Nothing here imports opentelemetry: ``ClientConfig`` and the runtime may read it freely.
"""

from __future__ import annotations

import json
import os
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field


class OTelAttribute(str, Enum):
    """The ``hatchet.<value>`` attributes of the spans (Hatchet's ``OTelAttribute``)."""

    # shared
    NAMESPACE = "namespace"
    ADDITIONAL_METADATA = "additional_metadata"
    WORKFLOW_NAME = "workflow_name"
    PRIORITY = "priority"
    ACTION_PAYLOAD = "payload"  # the input of a run, the payload of an event
    # task run (worker side)
    ACTION_NAME = "action_name"
    STEP_NAME = "step_name"
    CHILD_WORKFLOW_INDEX = "child_workflow_index"
    CHILD_WORKFLOW_KEY = "child_workflow_key"
    PARENT_WORKFLOW_RUN_ID = "parent_workflow_run_id"
    RETRY_COUNT = "retry_count"
    STEP_ID = "step_id"
    STEP_RUN_ID = "step_run_id"
    TENANT_ID = "tenant_id"
    WORKER_ID = "worker_id"
    WORKFLOW_ID = "workflow_id"
    WORKFLOW_RUN_ID = "workflow_run_id"
    WORKFLOW_VERSION_ID = "workflow_version_id"
    TRIGGERING_EVENT_EXTERNAL_ID = "triggering_event_external_id"
    TRIGGERING_EVENT_KEY = "triggering_event_key"
    # event push
    EVENT_KEY = "event_key"
    FILTER_SCOPE = "scope"
    # run trigger
    PARENT_ID = "parent_id"
    PARENT_STEP_RUN_ID = "parent_step_run_id"
    CHILD_INDEX = "child_index"
    CHILD_KEY = "child_key"
    DESIRED_WORKER_ID = "desired_worker_id"
    STICKY = "sticky"
    KEY = "key"
    # schedule
    RUN_AT_TIMESTAMPS = "run_at_timestamps"
    # durable context
    SIGNAL_KEY = "signal_key"
    NUM_CONDITIONS = "num_conditions"
    MEMO_FN_NAME = "memo_fn_name"


_ENV = "HATCHET_CLIENT_OPENTELEMETRY_"


def _env_bool(name: str) -> bool:
    return os.environ.get(_ENV + name, "").strip().lower() in ("1", "true", "yes", "on")


def _env_excluded() -> list[OTelAttribute]:
    raw = os.environ.get(_ENV + "EXCLUDED_ATTRIBUTES", "").strip()
    if not raw:
        return []
    try:
        values: Any = json.loads(raw)
    except ValueError as exc:
        raise ValueError(
            f"{_ENV}EXCLUDED_ATTRIBUTES must be a JSON array of attribute names "
            f'(e.g. ["payload"]), got {raw!r}'
        ) from exc
    return [OTelAttribute(v) for v in values]


class OpenTelemetryConfig(BaseModel):
    """Hatchet's ``OpenTelemetryConfig``; unset fields come from ``HATCHET_CLIENT_OPENTELEMETRY_*``.

    - ``excluded_attributes``: attributes never written (``payload`` to keep inputs out of
      traces, say); the environment variable is a JSON array.
    - ``include_task_name_in_start_step_run_span_name``: ``hatchet.start_step_run.<action>``.
    - ``individual_run_spans_for_bulk_run``: one ``hatchet.run_workflow`` span per item of a
      bulk trigger, under its ``hatchet.run_workflows`` span.
    """

    excluded_attributes: list[OTelAttribute] = Field(default_factory=_env_excluded)
    include_task_name_in_start_step_run_span_name: bool = Field(
        default_factory=lambda: _env_bool("INCLUDE_TASK_NAME_IN_START_STEP_RUN_SPAN_NAME")
    )
    individual_run_spans_for_bulk_run: bool = Field(
        default_factory=lambda: _env_bool("INDIVIDUAL_RUN_SPANS_FOR_BULK_RUN")
    )


__all__ = ["OTelAttribute", "OpenTelemetryConfig"]
