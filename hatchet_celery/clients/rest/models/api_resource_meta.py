"""Identity and timestamps shared by every REST resource."""

from datetime import datetime

from hatchet_celery.clients.rest.models._base import RestModel


class APIResourceMeta(RestModel):
    """``metadata`` of a REST resource."""

    id: str
    created_at: datetime
    updated_at: datetime


class Resource(RestModel):
    """Base of the models of REST resources: ``metadata`` (id, times) comes first, as in
    Hatchet's API, followed by the resource's own fields."""

    metadata: APIResourceMeta
