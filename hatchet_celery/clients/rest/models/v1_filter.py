"""An event filter attached to a workflow."""

from typing import Any

from pydantic import Field

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta


class V1Filter(RestModel):
    """A CEL filter deciding which events with ``scope`` trigger ``workflow_id``."""

    metadata: APIResourceMeta
    tenant_id: str = ""
    workflow_id: str
    scope: str
    expression: str
    payload: dict[str, Any] = Field(default_factory=dict)
    is_declarative: bool | None = None
