"""``ctx.worker``: the worker running a task (Hatchet's deprecated helper)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hatchet_celery.context.context import Context


class WorkerContext:
    """``ctx.worker``: the worker running the task (Hatchet's deprecated helper)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def id(self) -> str:
        return self._ctx.worker_id

    def labels(self) -> dict[str, str | int]:
        return self._ctx.worker_labels

    def upsert_labels(self, labels: dict[str, str | int]) -> None:
        self._ctx.upsert_worker_labels(labels)

    async def async_upsert_labels(self, labels: dict[str, str | int]) -> None:
        await self._ctx.aio_upsert_worker_labels(labels)
