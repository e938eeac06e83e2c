"""``wf.to_proto()``: a workflow's declaration with the fields of Hatchet's registration message.

Hatchet registers a workflow with its engine as a protobuf ``CreateWorkflowVersionRequest``;
programs (and Hatchet's own tests) inspect it, e.g. ``wf.to_proto().HasField("cron_input")``.
There is no engine to register with here, so this is a plain model with the same field names
and protobuf's ``HasField`` for the optional ones; nothing is sent anywhere.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from hatchet_celery.runnables.types import EmptyModel

if TYPE_CHECKING:
    from hatchet_celery.runnables.workflow import BaseWorkflow


class CreateWorkflowVersionRequest(BaseModel):
    """The declaration of one workflow (task names stand for Hatchet's task messages)."""

    name: str
    description: str | None = None
    version: str | None = None
    event_triggers: list[str] = Field(default_factory=list)
    cron_triggers: list[str] = Field(default_factory=list)
    tasks: list[str] = Field(default_factory=list)
    cron_input: bytes | None = None
    on_failure_task: str | None = None
    sticky: str | None = None
    default_priority: int | None = None
    input_json_schema: bytes | None = None

    def HasField(self, field: str) -> bool:  # noqa: N802 - protobuf's name
        """True when an optional field is set (protobuf raises for unknown fields too)."""
        if field not in type(self).model_fields:
            raise ValueError(f'Protocol message has no "{field}" field.')
        value = getattr(self, field)
        if isinstance(value, list):
            raise ValueError(f'Field "{field}" is repeated; HasField is for singular fields.')
        return value is not None


def declaration_of(workflow: BaseWorkflow[Any]) -> CreateWorkflowVersionRequest:
    config = workflow.config
    cron_input = workflow.cron_input
    schema: bytes | None = None
    if workflow.input_validator is not EmptyModel:  # Hatchet sends no schema for EmptyModel
        try:
            schema = json.dumps(workflow._input_adapter.json_schema()).encode()
        except Exception:  # a type without a JSON schema: Hatchet sends none either
            schema = None
    return CreateWorkflowVersionRequest(
        name=workflow.name,
        description=config.description,
        version=config.version,
        event_triggers=list(config.on_events),
        cron_triggers=list(config.on_crons),
        tasks=[t.name for t in workflow.tasks if t is not workflow.on_failure],
        cron_input=(
            json.dumps(workflow._dump_input(cron_input)).encode()
            if cron_input is not None
            else None
        ),
        on_failure_task=workflow.on_failure.name if workflow.on_failure else None,
        sticky=str(config.sticky.value) if config.sticky is not None else None,
        default_priority=int(config.default_priority),
        input_json_schema=schema,
    )
