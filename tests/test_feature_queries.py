"""The listings typed from one query dataclass (``hatchet_celery/features/_query.py``): each
keeps Hatchet's parameters (names, order, kinds, defaults) for ``inspect.signature`` and in
its ``aio_`` twin, and every listing pages the same way."""

from __future__ import annotations

import dataclasses
import inspect
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet
from hatchet_celery.features._query import LimitOffset, OffsetLimit
from hatchet_celery.features.cron import CronClient, CronQuery
from hatchet_celery.features.events import EventClient
from hatchet_celery.features.filters import FiltersClient
from hatchet_celery.features.rate_limits import RateLimitsClient
from hatchet_celery.features.scheduled import ScheduledClient
from hatchet_celery.features.webhooks import WebhooksClient
from hatchet_celery.features.workflows import WorkflowsClient

KW = inspect.Parameter.KEYWORD_ONLY
POS = inspect.Parameter.POSITIONAL_OR_KEYWORD

# hatchet-sdk 1.43.1's parameters (every default is None).
HATCHET = {
    CronClient.list: ["offset", "limit", "workflow_id", "additional_metadata", "order_by_field",
                      "order_by_direction", "workflow_name", "cron_name"],
    RateLimitsClient.list: ["offset", "limit", "search", "order_by_field", "order_by_direction"],
    WorkflowsClient.list: ["workflow_name", "limit", "offset"],
    ScheduledClient.list: ["offset", "limit", "workflow_id", "parent_workflow_run_id",
                           "statuses", "additional_metadata", "order_by_field",
                           "order_by_direction"],
    FiltersClient.list: ["limit", "offset", "workflow_ids", "scopes"],
    WebhooksClient.list: ["limit", "offset", "webhook_names", "source_names"],
    EventClient.list: ["offset", "limit", "keys", "since", "until", "workflow_ids",
                       "workflow_run_statuses", "event_ids", "additional_metadata", "scopes"],
}  # fmt: skip


def _shape(fn: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    params = list(inspect.signature(fn).parameters.values())
    assert params[0].name == "self"
    return [(p.name, p.kind, p.default) for p in params[1:]]


@pytest.mark.parametrize("method", list(HATCHET), ids=lambda m: m.__qualname__)
def test_a_listing_and_its_twin_show_hatchets_parameters(method: Callable[..., Any]) -> None:
    assert _shape(method) == [(name, POS, None) for name in HATCHET[method]]
    owner = getattr(inspect.getmodule(method), method.__qualname__.split(".")[0])
    twin = owner.aio_list
    assert inspect.iscoroutinefunction(twin) and _shape(twin) == _shape(method)


def test_bulk_delete_takes_its_filters_by_keyword_only() -> None:
    names = ["scheduled_ids", "workflow_id", "parent_workflow_run_id", "parent_step_run_id",
             "statuses", "additional_metadata"]  # fmt: skip
    assert _shape(ScheduledClient.bulk_delete) == [(n, KW, None) for n in names]
    with pytest.raises(TypeError):
        ScheduledClient.bulk_delete(object(), ["an-id"])  # type: ignore[arg-type, call-arg]


def test_schedule_version_takes_creates_parameters() -> None:
    assert _shape(ScheduledClient.schedule_version) == _shape(ScheduledClient.create)


def test_a_query_is_a_frozen_value_in_its_listings_order() -> None:
    query = CronQuery(5, 10, workflow_name="wf")
    assert (query.offset, query.limit, query.workflow_name) == (5, 10, "wf")
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.limit = 3  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(LimitOffset)] == ["limit", "offset"]


@pytest.mark.parametrize(
    ("offset", "limit", "default", "rows", "page"),
    [
        (None, None, 50, list(range(120)), (list(range(50)), 1, 3, 2)),
        (100, None, 50, list(range(120)), (list(range(100, 120)), 3, 3, None)),
        (2, 2, 50, list(range(5)), ([2, 3], 2, 3, 3)),
        (None, None, None, list(range(120)), (list(range(120)), 1, 1, None)),
        (None, 0, None, [], ([], 1, 1, None)),
    ],
)
def test_pages_and_their_numbers(
    offset: int | None, limit: int | None, default: int | None, rows: list[int], page: Any
) -> None:
    got, pagination = OffsetLimit(offset, limit).page(rows, default_limit=default)
    numbers = (pagination.current_page, pagination.num_pages, pagination.next_page)
    assert (got, *numbers) == page


def test_workflows_list_pages_through_the_users_door() -> None:
    config = ClientConfig(namespace=f"queries_{uuid.uuid4().hex[:8]}")
    hatchet = Hatchet(config=config)
    for name in ("a", "b", "c"):

        @hatchet.task(name=name)
        def step(input: EmptyModel, ctx: Context) -> None:
            return None

    first = hatchet.workflows.list(limit=2)
    last = hatchet.workflows.list(None, 2, 2)
    assert [w.name for w in first.rows or []] == [config.apply_namespace(n) for n in "ab"]
    assert [w.name for w in last.rows or []] == [config.apply_namespace("c")]
    assert first.pagination is not None and last.pagination is not None
    assert (first.pagination.current_page, first.pagination.next_page) == (1, 2)
    assert (last.pagination.current_page, last.pagination.next_page) == (2, None)
    assert last.pagination.num_pages == 2
