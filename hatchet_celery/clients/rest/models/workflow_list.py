"""A page of workflows."""

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.api_resource_meta import APIResourceMeta
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.workflow import Workflow


class WorkflowList(RestModel):
    """Result of ``hatchet.workflows.list``."""

    metadata: APIResourceMeta | None = None
    rows: list[Workflow] | None = None
    pagination: PaginationResponse | None = None
