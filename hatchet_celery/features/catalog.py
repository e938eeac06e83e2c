"""The feature clients of one registry (``hatchet.runs``, ``hatchet.logs``, ...).

Built on first access and shared by every ``Hatchet`` on the registry, so two ``Hatchet()``
objects of one configuration see the same clients. Each property is typed, so a user's
``hatchet.runs.list(...)`` is checked by mypy.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from hatchet_celery.features.cel import CELClient
from hatchet_celery.features.cron import CronClient
from hatchet_celery.features.events import EventClient
from hatchet_celery.features.filters import FiltersClient
from hatchet_celery.features.logs import LogsClient
from hatchet_celery.features.metrics import MetricsClient
from hatchet_celery.features.rate_limits import RateLimitsClient
from hatchet_celery.features.runs import RunsClient
from hatchet_celery.features.scheduled import ScheduledClient
from hatchet_celery.features.stubs import StubsClient
from hatchet_celery.features.webhooks import WebhooksClient
from hatchet_celery.features.workers import WorkersClient
from hatchet_celery.features.workflows import WorkflowsClient

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry

# The attribute names ``Hatchet`` offers, in the order of Hatchet's SDK.
NAMES = (
    "runs",
    "logs",
    "workers",
    "workflows",
    "event",
    "filters",
    "cron",
    "scheduled",
    "rate_limits",
    "metrics",
    "cel",
    "stubs",
    "webhooks",
)


class FeatureClients:
    """One client per feature, each made on first use."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    @cached_property
    def runs(self) -> RunsClient:
        return RunsClient(self._registry)

    @cached_property
    def logs(self) -> LogsClient:
        return LogsClient(self._registry)

    @cached_property
    def workers(self) -> WorkersClient:
        return WorkersClient(self._registry)

    @cached_property
    def workflows(self) -> WorkflowsClient:
        return WorkflowsClient(self._registry)

    @cached_property
    def event(self) -> EventClient:
        return EventClient(self._registry)

    @cached_property
    def filters(self) -> FiltersClient:
        return FiltersClient(self._registry)

    @cached_property
    def cron(self) -> CronClient:
        return CronClient(self._registry)

    @cached_property
    def scheduled(self) -> ScheduledClient:
        return ScheduledClient(self._registry)

    @cached_property
    def rate_limits(self) -> RateLimitsClient:
        return RateLimitsClient(self._registry)

    @cached_property
    def metrics(self) -> MetricsClient:
        return MetricsClient(self._registry)

    @cached_property
    def cel(self) -> CELClient:
        return CELClient(self._registry)

    @cached_property
    def stubs(self) -> StubsClient:
        return StubsClient(self._registry)

    @cached_property
    def webhooks(self) -> WebhooksClient:
        return WebhooksClient(self._registry)
