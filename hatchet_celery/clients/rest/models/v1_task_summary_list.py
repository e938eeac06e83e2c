"""A page of task runs."""

from pydantic import Field

from hatchet_celery.clients.rest.models._base import RestModel
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse
from hatchet_celery.clients.rest.models.v1_task_summary import V1TaskSummary


class V1TaskSummaryList(RestModel):
    """Result of ``hatchet.runs.list``."""

    pagination: PaginationResponse = Field(default_factory=PaginationResponse)
    rows: list[V1TaskSummary] = Field(default_factory=list)
