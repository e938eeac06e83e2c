"""An event filter attached to a workflow."""

from typing import Any

from pydantic import Field

from hatchet_celery.clients.rest.models.api_resource_meta import Resource


class V1Filter(Resource):
    """A CEL filter deciding which events with ``scope`` trigger ``workflow_id``."""

    tenant_id: str = ""
    workflow_id: str
    scope: str
    expression: str
    payload: dict[str, Any] = Field(default_factory=dict)
    is_declarative: bool | None = None
