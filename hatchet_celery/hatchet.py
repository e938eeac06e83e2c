"""``Hatchet``: the façade users construct; declarations, workers and feature clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from hatchet_celery._cron import parse_cron
from hatchet_celery._runtime.registry import Registry, registry_for
from hatchet_celery._twins import arguments, takes
from hatchet_celery.config import ClientConfig
from hatchet_celery.context import Context, current_context
from hatchet_celery.exceptions import DeclarationError
from hatchet_celery.runnables.batch import batch_function
from hatchet_celery.runnables.options import (
    StandaloneBatchOptions,
    StandaloneDurableTaskOptions,
    StandaloneTaskOptions,
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

# The options of Hatchet.task / durable_task / batch_task that their task takes as they are.
_TASK_OPTIONS = frozenset(
    ("retries", "backoff_factor", "backoff_max_seconds", "execution_timeout", "schedule_timeout",
     "rate_limits", "slot_cost", "eviction_policy")
)  # fmt: skip


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
        hatchet = cls.__new__(cls)
        shared = ClientConfig.model_fields.keys() & {f.name for f in fields(registry.config)}
        hatchet._config = ClientConfig(**{name: getattr(registry.config, name) for name in shared})
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
    def _workflow_config(self, options: dict[str, Any]) -> WorkflowConfig:
        """A workflow's config from the options its declaration was called with (those
        ``WorkflowConfig`` has; None or absent: its default), checked."""
        values = {
            name: value
            for name, value in options.items()
            if name in WorkflowConfig.model_fields and value is not None
        }
        name = values.get("name")
        if not name or not isinstance(name, str):
            raise DeclarationError(f"a workflow needs a non-empty name, got {name!r}")
        where = f"workflow {name!r}"
        values["default_priority"] = int(values.get("default_priority", Priority.LOW))
        _check_priority(values["default_priority"], f"{where}: default_priority")
        for expression in values.get("on_crons", []):  # a bad cron fails here, not at a tick
            parse_cron(expression, what=f"{where}: on_crons expression")
        check_idempotency(values.get("idempotency"), where)
        values["concurrency"] = normalise_concurrency(values.get("concurrency"), where)
        return WorkflowConfig(**values)

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
        config = self._workflow_config(arguments(locals()))
        wf: Workflow[TWorkflowInput] = Workflow(config, self._registry, input_validator)
        wf.cron_input = cron_input
        return wf

    def _one_task_workflow(
        self,
        o: StandaloneTaskOptions[Any] | StandaloneDurableTaskOptions[Any] | StandaloneBatchOptions,
        fn: Callable[..., Any],
        task_fn: Callable[..., Any],
        **task_options: Any,
    ) -> Standalone[Any, Any]:
        """The workflow of a standalone task declared on ``fn`` (``o``: its decorator's
        options; the task runs ``task_fn``). The options of the workflow and those of its
        task are picked from ``o`` by name."""
        given = vars(o)
        wf_name = o.name or fn.__name__
        config = self._workflow_config({**given, "name": wf_name, "concurrency": None})
        standalone: Standalone[Any, Any] = Standalone(config, self._registry, o.input_validator)
        standalone.cron_input = given.get("cron_input")
        task: Task[Any, Any] = Task(
            fn=task_fn,
            workflow=standalone,
            name=wf_name.lower(),
            concurrency=normalise_concurrency(given.get("concurrency"), f"task {wf_name!r}"),
            desired_worker_labels=_labels(o.desired_worker_labels),
            **{name: value for name, value in given.items() if name in _TASK_OPTIONS},
            **task_options,
        )
        standalone._attach(task)
        return standalone

    @takes(StandaloneTaskOptions)
    def task(
        self, options: StandaloneTaskOptions[TWorkflowInput]
    ) -> StandaloneDecorator[TWorkflowInput]:
        return lambda fn: self._one_task_workflow(options, fn, fn)

    @takes(StandaloneBatchOptions)
    def batch_task(
        self, options: StandaloneBatchOptions
    ) -> Callable[[Callable[..., Any]], Standalone[Any, Any]]:
        """A standalone batch task: each run is a member; members are collected and run
        as one call of the function with ``{BatchMemberId: input}`` when
        ``batch_max_size`` wait or ``batch_max_interval`` passed (see
        ``_runtime/flow/batch.py``). The function returns ``{BatchMemberId: output}``, or one
        output for every member with ``broadcast_output``."""

        def decorator(fn: Callable[..., Any]) -> Standalone[Any, Any]:
            spec = batch_config(f"batch task {options.name or fn.__name__!r}", options)
            return self._one_task_workflow(options, fn, batch_function(fn, spec), batch=spec)

        return decorator

    @takes(StandaloneDurableTaskOptions)
    def durable_task(
        self, options: StandaloneDurableTaskOptions[TWorkflowInput]
    ) -> StandaloneDecorator[TWorkflowInput]:
        return lambda fn: self._one_task_workflow(options, fn, fn, is_durable=True)

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
