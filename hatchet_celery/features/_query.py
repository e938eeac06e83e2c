"""A listing's parameters as one typed value, and the paging every listing shares.

Hatchet's listing methods take many optional filters (``offset``, ``limit``, ``since``...),
in an order each method fixes. Here a method's filters are one frozen dataclass, declared
once in Hatchet's order; ``@takes(Query)`` types the method with the dataclass's
constructor parameters (mypy, IDEs and ``inspect.signature`` see Hatchet's list, names,
kinds and defaults) and hands the body the built value::

    class CronQuery(OffsetLimit):
        workflow_name: str | None = None

    @takes(CronQuery)
    def list(self, query: CronQuery) -> CronWorkflowsList: ...

    aio_list = aio_twin(list)

``Query.page`` cuts the page and counts Hatchet's pagination numbers for every listing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, dataclass_transform

from hatchet_celery._twins import takes
from hatchet_celery.clients.rest.models.pagination_response import PaginationResponse

T = TypeVar("T")

# Hatchet's REST lists answer 50 rows unless asked for another page size.
DEFAULT_LIMIT = 50


@dataclass_transform(frozen_default=True)
class Query:
    """Base of the queries: each subclass is a frozen dataclass (keyword-only with
    ``class Q(Query, kw_only=True)``). A listing's query declares ``offset`` and ``limit``
    where its listing takes them (or inherits them first: ``OffsetLimit``, ``LimitOffset``)
    and is cut by ``page``."""

    offset: int | None
    limit: int | None

    def __init_subclass__(cls, *, kw_only: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(frozen=True, kw_only=kw_only)(cls)

    def page(
        self, rows: Sequence[T], default_limit: int | None = DEFAULT_LIMIT
    ) -> tuple[list[T], PaginationResponse]:
        """The rows of the page asked for, and Hatchet's pagination numbers for it.

        Without a ``limit`` a page holds ``default_limit`` rows (``None``: every row)."""
        start = max(self.offset or 0, 0)
        size = self.limit if self.limit and self.limit > 0 else default_limit
        size = size or max(len(rows), 1)
        pages = max(math.ceil(len(rows) / size), 1)
        current = start // size + 1
        pagination = PaginationResponse(
            current_page=current,
            num_pages=pages,
            next_page=current + 1 if current < pages else None,
        )
        return list(rows[start : start + size]), pagination


class OffsetLimit(Query):
    """The first two parameters of most of Hatchet's listings."""

    offset: int | None = None
    limit: int | None = None


class LimitOffset(Query):
    """The first two parameters of the listings that take ``limit`` first."""

    limit: int | None = None
    offset: int | None = None


__all__ = ["DEFAULT_LIMIT", "LimitOffset", "OffsetLimit", "Query", "takes"]
