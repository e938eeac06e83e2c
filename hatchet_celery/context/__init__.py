"""Task contexts (``hatchet_celery.context.context`` mirrors Hatchet's module path)."""

from hatchet_celery.context.context import Context, current_context

__all__ = ["Context", "current_context"]
