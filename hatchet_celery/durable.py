"""``DurableContext``: the context of durable tasks (waits that survive restarts)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hatchet_celery.context import Context


class DurableContext(Context):
    """Context of a ``durable_task``; its waits are checkpoints replayed after a restart."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wait_index = 0
        self.invocation_count = 1
        self._now: datetime | None = None

    async def aio_now(self) -> datetime:
        if self._now is None:
            self._now = datetime.now(timezone.utc)
        return self._now


__all__ = ["DurableContext"]
