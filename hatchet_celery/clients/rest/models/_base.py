"""Shared configuration of the REST models."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class RestModel(BaseModel):
    """Base of the REST models.

    Attributes are snake_case as in Hatchet's SDK; the camelCase names of Hatchet's REST API are
    accepted when validating and produced by ``model_dump(by_alias=True)``, as the SDK does.
    """

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True
    )
