"""Hatchet's serialization context for pydantic models.

Task outputs are dumped (``model_dump(context=...)``) and parsed back for their readers
(``ctx.task_output``, a standalone task's typed result) with ``HATCHET_PYDANTIC_SENTINEL``
as pydantic's context, so a model can store a different form than it shows (compressed,
encrypted...)::

    def compress(value: str, info: ValidationInfo) -> str:
        if is_in_hatchet_serialization_context(info.context):
            return zlib_b64(value)
        return value
"""

from hatchet_celery.serde.pydantic import (
    HATCHET_PYDANTIC_SENTINEL,
    is_in_hatchet_serialization_context,
)

__all__ = ["HATCHET_PYDANTIC_SENTINEL", "is_in_hatchet_serialization_context"]
