"""``Hatchet``: the façade users construct; declarations, workers and feature clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from hatchet_celery._cron import parse_cron
from hatchet_celery._durations import Duration
from hatchet_celery._runtime.registry import Registry, registry_for
from hatchet_celery.config import ClientConfig
from hatchet_celery.context import Context, current_context
from hatchet_celery.exceptions import DeclarationError
from hatchet_celery.labels import DesiredWorkerLabel
from hatchet_celery.rate_limit import RateLimit
from hatchet_celery.runnables.batch import batch_function
from hatchet_celery.runnables.options import (
    StandaloneDurableTaskOptions,
    StandaloneTaskOptions,
    takes,
)
from hatchet_celery.runnables.run_calls import StandaloneDecorator
from hatchet_celery.runnables.task import Task
from hatchet_celery.runnables.types import (
    ConcurrencyExpression,
    DefaultFilter,
    Priority,
    StatusBasedIdempotencyConfig,
    StickyStrategy,
    TaskDefaults,
    TTLBasedIdempotencyConfig,
    WorkflowConfig,
)
from hatchet_celery.runnables.workflow import (
    Standalone,
    TWorkflowInput,
    Workflow,
    _check_priority,
    _labels,
    batch_config,
    check_idempotency,
    normalise_concurrency,
)
from hatchet_celery.worker import Worker

if TYPE_CHECKING:
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

R = TypeVar("R")


class Hatchet:
    """Declare workflows and tasks, start workers, reach runs, events, crons and more.

    ``Hatchet(app=celery_app)`` registers the tasks on an existing Celery app; otherwise
    one is built on ``HATCHET_CELERY_REDIS_URL`` (or the embedded redis-server).
    """

    def __init__(
        self,
        debug: bool | None = None,
        client: Any = None,
        config: ClientConfig | None = None,
        *,
        app: Any = None,
    ) -> None:
        self._config: ClientConfig = config or ClientConfig()
        self._registry = registry_for(self._config.backend(), app)
        self.debug = bool(debug)

    @classmethod
    def _on_registry(cls, registry: Registry) -> Hatchet:
        """A ``Hatchet`` on an existing registry (the CLI's commands, given a worker or a
        Celery app): its declarations, app and feature clients. Bound to that registry
        directly, not looked up again from a configuration rebuilt from it."""
        config = registry.config
        hatchet = cls.__new__(cls)
        hatchet._config = ClientConfig(
            namespace=config.namespace,
            redis_url=config.redis_url,
            broker_url=config.broker_url,
            key_prefix=config.key_prefix,
            data_dir=config.data_dir,
            retention_seconds=config.retention_seconds,
        )
        hatchet._registry = registry
        hatchet.debug = False
        return hatchet

    # --- identity and configuration ----------
    @property
    def config(self) -> ClientConfig:
        return self._config

    @property
    def namespace(self) -> str:
        return self._config.namespace

    @property
    def tenant_id(self) -> str:
        """One fixed tenant per namespace (there is no multi-tenant engine here)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hatchet-celery:{self.namespace}"))

    @property
    def celery_app(self) -> Any:
        """The Celery app the tasks are registered on (the user's own with ``app=``)."""
        return self._registry.celery_app

    @property
    def current_context(self) -> Context | None:
        return current_context.get()

    def get_current_context(self) -> Context | None:
        return current_context.get()

    async def aio_get_engine_version(self) -> str | None:
        return None

    # --- feature clients (one set per registry, shared) ----------
    @property
    def runs(self) -> RunsClient:
        return self._registry.features().runs

    @property
    def logs(self) -> LogsClient:
        return self._registry.features().logs

    @property
    def workers(self) -> WorkersClient:
        return self._registry.features().workers

    @property
    def workflows(self) -> WorkflowsClient:
        return self._registry.features().workflows

    @property
    def event(self) -> EventClient:
        return self._registry.features().event

    @property
    def filters(self) -> FiltersClient:
        return self._registry.features().filters

    @property
    def cron(self) -> CronClient:
        return self._registry.features().cron

    @property
    def scheduled(self) -> ScheduledClient:
        return self._registry.features().scheduled

    @property
    def rate_limits(self) -> RateLimitsClient:
        return self._registry.features().rate_limits

    @property
    def metrics(self) -> MetricsClient:
        return self._registry.features().metrics

    @property
    def cel(self) -> CELClient:
        return self._registry.features().cel

    @property
    def stubs(self) -> StubsClient:
        return self._registry.features().stubs

    @property
    def webhooks(self) -> WebhooksClient:
        return self._registry.features().webhooks

    # --- declarations ----------
    def _workflow_config(
        self,
        name: str,
        description: str | None,
        on_events: list[str] | None,
        on_crons: list[str] | None,
        version: str | None,
        sticky: StickyStrategy | None,
        default_priority: int,
        concurrency: Any,
        task_defaults: TaskDefaults | None,
        default_filters: list[DefaultFilter] | None,
        default_additional_metadata: dict[str, Any] | None,
        idempotency: TTLBasedIdempotencyConfig | StatusBasedIdempotencyConfig | None = None,
    ) -> WorkflowConfig:
        if not name or not isinstance(name, str):
            raise DeclarationError(f"a workflow needs a non-empty name, got {name!r}")
        _check_priority(int(default_priority), f"workflow {name!r}: default_priority")
        for expression in on_crons or []:  # a bad cron fails here, not at the first tick
            parse_cron(expression, what=f"workflow {name!r}: on_crons expression")
        check_idempotency(idempotency, f"workflow {name!r}")
        return WorkflowConfig(
            name=name,
            description=description,
            version=version,
            on_events=list(on_events or []),
            on_crons=list(on_crons or []),
            sticky=sticky,
            default_priority=int(default_priority),
            concurrency=normalise_concurrency(concurrency, f"workflow {name!r}"),
            task_defaults=task_defaults or TaskDefaults(),
            default_filters=list(default_filters or []),
            default_additional_metadata=dict(default_additional_metadata or {}),
            idempotency=idempotency,
        )

    def workflow(
        self,
        *,
        name: str,
        description: str | None = None,
        input_validator: type[TWorkflowInput] | None = None,
        on_events: list[str] | None = None,
        on_crons: list[str] | None = None,
        cron_input: Any = None,
        version: str | None = None,
        sticky: StickyStrategy | None = None,
        default_priority: int | Priority = Priority.LOW,
        concurrency: int | ConcurrencyExpression | Sequence[ConcurrencyExpression] | None = None,
        task_defaults: TaskDefaults = TaskDefaults(),  # noqa: B008 - immutable default
        default_filters: list[DefaultFilter] | None = None,
        default_additional_metadata: dict[str, Any] | None = None,
        idempotency: TTLBasedIdempotencyConfig | StatusBasedIdempotencyConfig | None = None,
    ) -> Workflow[TWorkflowInput]:
        config = self._workflow_config(
            name,
            description,
            on_events,
            on_crons,
            version,
            sticky,
            default_priority,
            concurrency,
            task_defaults,
            default_filters,
            default_additional_metadata,
            idempotency,
        )
        wf: Workflow[TWorkflowInput] = Workflow(config, self._registry, input_validator)
        wf.cron_input = cron_input
        return wf

    def _standalone(
        self,
        o: StandaloneTaskOptions[TWorkflowInput] | StandaloneDurableTaskOptions[TWorkflowInput],
    ) -> StandaloneDecorator[TWorkflowInput]:
        """The decorator of ``task`` and ``durable_task`` (``o``: their options): a
        one-task workflow."""
        last: dict[str, Any] = (  # the option that tells the two apart
            {"is_durable": True, "eviction_policy": o.eviction_policy}
            if isinstance(o, StandaloneDurableTaskOptions)
            else {"slot_cost": o.slot_cost}
        )

        def decorator(
            fn: Callable[..., Any],
        ) -> Standalone[TWorkflowInput, Any]:
            wf_name = o.name or fn.__name__
            config = self._workflow_config(
                wf_name,
                o.description,
                o.on_events,
                o.on_crons,
                o.version,
                o.sticky,
                o.default_priority,
                None,
                None,
                o.default_filters,
                o.default_additional_metadata,
                o.idempotency,
            )
            standalone: Standalone[TWorkflowInput, Any] = Standalone(
                config, self._registry, o.input_validator
            )
            standalone.cron_input = o.cron_input
            task: Task[Any, Any] = Task(
                fn=fn,
                workflow=standalone,
                name=wf_name.lower(),
                retries=o.retries,
                backoff_factor=o.backoff_factor,
                backoff_max_seconds=o.backoff_max_seconds,
                execution_timeout=o.execution_timeout,
                schedule_timeout=o.schedule_timeout,
                rate_limits=o.rate_limits,
                concurrency=normalise_concurrency(o.concurrency, f"task {wf_name!r}"),
                desired_worker_labels=_labels(o.desired_worker_labels),
                **last,
            )
            standalone._attach(task)
            return standalone

        return decorator

    @takes(StandaloneTaskOptions)
    def task(
        self, options: StandaloneTaskOptions[TWorkflowInput]
    ) -> StandaloneDecorator[TWorkflowInput]:
        return self._standalone(options)

    def batch_task(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        input_validator: Any = None,
        version: str | None = None,
        sticky: StickyStrategy | None = None,
        default_priority: int = 1,
        schedule_timeout: Duration = timedelta(minutes=5),
        execution_timeout: Duration = timedelta(seconds=60),
        rate_limits: list[RateLimit] | None = None,
        desired_worker_labels: dict[str, DesiredWorkerLabel] | None = None,
        backoff_factor: float | None = None,
        backoff_max_seconds: int | None = None,
        default_filters: list[DefaultFilter] | None = None,
        batch_max_size: int = 1,
        batch_max_interval: timedelta | None = None,
        batch_group_key: str | None = None,
        batch_group_max_runs: int | None = None,
        broadcast_output: bool = False,
    ) -> Callable[[Callable[..., Any]], Standalone[Any, Any]]:
        """A standalone batch task: each run is a member; members are collected and run
        as one call of the function with ``{BatchMemberId: input}`` when
        ``batch_max_size`` wait or ``batch_max_interval`` passed (see
        ``_runtime/flow/batch.py``). The function returns ``{BatchMemberId: output}``, or one
        output for every member with ``broadcast_output``."""

        def decorator(fn: Callable[..., Any]) -> Standalone[Any, Any]:
            wf_name = name or fn.__name__
            spec = batch_config(
                f"batch task {wf_name!r}",
                batch_max_size,
                batch_max_interval,
                batch_group_key,
                batch_group_max_runs,
                broadcast_output,
            )
            config = self._workflow_config(
                wf_name,
                description,
                None,
                None,
                version,
                sticky,
                default_priority,
                None,
                None,
                default_filters,
                None,
                None,
            )
            standalone: Standalone[Any, Any] = Standalone(config, self._registry, input_validator)
            task: Task[Any, Any] = Task(
                fn=batch_function(fn, spec),
                workflow=standalone,
                name=wf_name.lower(),
                execution_timeout=execution_timeout,
                schedule_timeout=schedule_timeout,
                rate_limits=rate_limits,
                desired_worker_labels=_labels(desired_worker_labels),
                backoff_factor=backoff_factor,
                backoff_max_seconds=backoff_max_seconds,
                batch=spec,
            )
            standalone._attach(task)
            return standalone

        return decorator

    @takes(StandaloneDurableTaskOptions)
    def durable_task(
        self, options: StandaloneDurableTaskOptions[TWorkflowInput]
    ) -> StandaloneDecorator[TWorkflowInput]:
        return self._standalone(options)

    def worker(
        self,
        name: str,
        slots: int | None = None,
        durable_slots: int | None = None,
        labels: dict[str, str | int] | None = None,
        workflows: list[Any] | None = None,
        lifespan: Callable[[], AsyncGenerator[Any, None]] | None = None,
    ) -> Worker:
        merged = {**self._config.worker_preset_labels, **(labels or {})}
        return Worker(
            name,
            self._registry,
            slots=slots,
            durable_slots=durable_slots,
            labels=merged,
            workflows=workflows,
            lifespan=lifespan,
        )


__all__ = ["Hatchet"]
