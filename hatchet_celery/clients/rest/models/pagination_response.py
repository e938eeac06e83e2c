"""Page information returned with every REST list."""

from pydantic import ConfigDict

from hatchet_celery.clients.rest.models._base import RestModel


class PaginationResponse(RestModel):
    """Page numbers of a list response."""

    # Hatchet's REST API spells these fields in snake_case on the wire too.
    model_config = ConfigDict(alias_generator=None)

    current_page: int | None = None
    next_page: int | None = None
    num_pages: int | None = None
