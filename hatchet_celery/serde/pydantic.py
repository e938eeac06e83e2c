"""The serialization-context sentinel and its test (see ``hatchet_celery.serde``)."""

from __future__ import annotations

import logging
from types import MappingProxyType
from typing import Any

log = logging.getLogger(__name__)

HATCHET_PYDANTIC_SENTINEL = MappingProxyType({"is_hatchet_serialization_context": True})
"""pydantic's ``context`` while this package stores or reads back a task's output; test it
with ``is_in_hatchet_serialization_context(info.context)``."""


def is_in_hatchet_serialization_context(context: Any) -> bool:
    """Whether pydantic's ``info.context`` is this package's serialization context."""
    if context == HATCHET_PYDANTIC_SENTINEL:
        return True
    if hasattr(context, "context"):
        log.warning(
            "is_in_hatchet_serialization_context() was given an object with a .context "
            "attribute: pass info.context, not the ValidationInfo itself"
        )
    return False


__all__ = ["HATCHET_PYDANTIC_SENTINEL", "is_in_hatchet_serialization_context"]
