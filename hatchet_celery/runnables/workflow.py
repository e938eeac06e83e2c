"""Workflows and standalone tasks: declarations, and the trigger methods users call.

``Workflow`` is a DAG of ``Task`` nodes; ``Standalone`` is a one-task workflow whose
results are the task's typed output. Triggering lives in ``_runtime.client``; this module
only validates and shapes what the user passes.
"""

from __future__ import annotations

import dataclasses
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, cast

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypeVar

from hatchet_celery._cel import compile_cel
from hatchet_celery._durations import Duration
from hatchet_celery._twins import aio_twin, arguments, parameters, takes
from hatchet_celery.clients.admin import (
    ScheduleTriggerWorkflowOptions,
    TriggerWorkflowOptions,
    WorkflowRunTriggerConfig,
)
from hatchet_celery.context.context import current_context
from hatchet_celery.exceptions import DeclarationError
from hatchet_celery.labels import DesiredWorkerLabel
from hatchet_celery.rate_limit import RateLimit
from hatchet_celery.runnables.batch import batch_function, group_program
from hatchet_celery.runnables.mock import Mockable, MockArgs
from hatchet_celery.runnables.options import (
    DEFAULT_EXECUTION_TIMEOUT,
    DEFAULT_SCHEDULE_TIMEOUT,
    BatchTaskOptions,
    DurableTaskOptions,
    TaskOptions,
)
from hatchet_celery.runnables.proto import declaration_of
from hatchet_celery.runnables.run_calls import (
    Awaiting,
    NoWaitCall,
    RunArgs,
    RunCall,
    TaskDecorator,
    TriggerArgs,
)
from hatchet_celery.runnables.shape import Shape
from hatchet_celery.runnables.task import Task
from hatchet_celery.runnables.types import (
    BaseIdemotencyConfig,
    BatchTaskConfig,
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    DefaultFilter,
    EmptyModel,
    Priority,
    StickyStrategy,
    WorkflowConfig,
)
from hatchet_celery.workflow_run import TaskRunRef, WorkflowRunRef

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.client import Client
    from hatchet_celery._runtime.registry import Registry

TWorkflowInput = TypeVar("TWorkflowInput", default=EmptyModel)
R = TypeVar("R", default=Any)
P = TypeVar("P")

# The options a workflow's task_defaults fill in, each with Hatchet's default: a task that
# kept that default takes the workflow's value.
_DEFAULTED = {
    "schedule_timeout": DEFAULT_SCHEDULE_TIMEOUT, "execution_timeout": DEFAULT_EXECUTION_TIMEOUT,
    "retries": 0, "backoff_factor": None, "backoff_max_seconds": None,
}  # fmt: skip
_ROUTED_OPTIONS = ("desired_worker_labels", "concurrency")  # normalised before Task gets them


def normalise_concurrency(
    value: int | ConcurrencyExpression | list[ConcurrencyExpression] | None, where: str
) -> list[ConcurrencyExpression]:
    if value is None:
        return []
    if isinstance(value, bool):
        raise DeclarationError(f"{where}: concurrency must be an int or ConcurrencyExpression")
    if isinstance(value, int):
        if value <= 0:
            raise DeclarationError(f"{where}: concurrency must be positive, got {value}")
        return [ConcurrencyExpression.from_int(value)]
    items = [value] if isinstance(value, ConcurrencyExpression) else list(value)
    for item in items:
        if not isinstance(item, ConcurrencyExpression):
            raise DeclarationError(f"{where}: concurrency items must be ConcurrencyExpression")
    for i, item in enumerate(items):
        _check_concurrency(item, f"concurrency expression {i + 1} of {where}")
    return items


def _check_concurrency(expr: ConcurrencyExpression, where: str) -> None:
    """A bad expression or an unusable strategy fails here, not on the first run."""
    if expr.limit_strategy == ConcurrencyLimitStrategy.QUEUE_OLDEST:
        raise DeclarationError(
            f"{where}: limit_strategy QUEUE_OLDEST is not supported (Hatchet "
            "rejects it too); use GROUP_ROUND_ROBIN"
        )
    variables = ("input", "additional_metadata")
    compile_cel(expr.expression, what=where, variables=variables)
    if isinstance(expr.max_runs, str):
        compile_cel(expr.max_runs, what=f"max_runs of {where}", variables=variables)


def check_idempotency(config: BaseIdemotencyConfig | None, where: str) -> None:
    """A bad key expression or a TTL that is not positive fails at declaration."""
    if config is None:
        return
    if not isinstance(config, BaseIdemotencyConfig):
        raise DeclarationError(
            f"{where}: idempotency must be a TTLBasedIdempotencyConfig or a "
            f"StatusBasedIdempotencyConfig, got {config!r}"
        )
    compile_cel(
        config.key_expression,
        what=f"idempotency key of {where}",
        variables=("input", "additional_metadata"),
    )
    if config.ttl_ms <= 0:
        raise DeclarationError(f"{where}: idempotency {config.ttl_field} must be positive")


def _warn_options() -> None:
    """``options=`` is deprecated; the warning points at the caller's line, however many
    of this package's frames (a method built by ``_twins.parameters``...) stand between."""
    frame: FrameType | None = sys._getframe(1)
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("hatchet_celery."):
        frame, level = frame.f_back, level + 1
    warnings.warn("options= is deprecated: pass the keywords directly", DeprecationWarning, level)


def _check_priority(value: int | None, where: str) -> None:
    if value is not None and (not isinstance(value, int) or not 1 <= int(value) <= 3):
        raise DeclarationError(f"{where}: priority must be 1, 2 or 3 (Priority.*), got {value!r}")


def _labels(
    value: dict[str, DesiredWorkerLabel] | list[DesiredWorkerLabel] | None,
) -> list[DesiredWorkerLabel]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [label.model_copy(update={"key": label.key or key}) for key, label in value.items()]
    return list(value)


class _Group(NamedTuple):
    """The items of a ``run_many`` that name one workflow, and where they stand."""

    target: BaseWorkflow[Any]
    indices: list[int]
    items: list[WorkflowRunTriggerConfig]


def _refs(count: int, groups: list[_Group], run_ids: list[list[str]]) -> list[Any]:
    """The refs of a ``run_many``, in the order of its items."""
    refs: list[Any] = [None] * count
    for group, ids in zip(groups, run_ids, strict=True):
        for i, run_id in zip(group.indices, ids, strict=True):
            refs[i] = group.target._ref(run_id)
    return refs


class BaseWorkflow(Generic[TWorkflowInput]):
    """What ``Workflow`` and ``Standalone`` share: identity, input type, triggering."""

    def __init__(self, config: WorkflowConfig, registry: Registry, input_validator: Any) -> None:
        self.config = config
        self._registry = registry
        self.name = registry.config.apply_namespace(config.name)
        self.input_validator: Any = input_validator or EmptyModel
        self.input_validator_type = self.input_validator
        self._input_adapter: TypeAdapter[Any] = TypeAdapter(self.input_validator)
        self.default_tasks: list[Task[TWorkflowInput, Any]] = []
        self.durable_tasks: list[Task[TWorkflowInput, Any]] = []
        self.on_failure: Task[TWorkflowInput, Any] | None = None
        self.on_success: Task[TWorkflowInput, Any] | None = None
        self.cron_input: Any = None
        self._compiled: Any = None
        self.service_name = self.name.lower()

    @property
    def id(self) -> str:
        """The workflow's id: its namespaced name (what runs, indexes and filters carry)."""
        return self.name

    # --- declaration ----------
    @property
    def tasks(self) -> list[Task[TWorkflowInput, Any]]:
        extra = [t for t in (self.on_failure, self.on_success) if t is not None]
        return [*self.default_tasks, *self.durable_tasks, *extra]

    def _add(self, task: Task[TWorkflowInput, Any]) -> None:
        if any(t.name == task.name for t in self.tasks):
            raise DeclarationError(
                f"workflow {self.name!r} already has a task named {task.name!r} "
                "(task names are lower-cased, so they must differ ignoring case)"
            )
        for parent in task.parents:
            if not isinstance(parent, Task):
                raise DeclarationError(
                    f"task {task.name!r} of workflow {self.name!r}: parents must be tasks "
                    f"of the same workflow, got {parent!r}"
                )
            if parent.workflow is not self or parent not in self.tasks:
                raise DeclarationError(
                    f"task {task.name!r} of workflow {self.name!r}: unknown parent "
                    f"{parent.name!r} (declare it on this workflow before its children)"
                )
        if task.is_durable:
            self.durable_tasks.append(task)
        elif task.kind == "on_failure":
            self.on_failure = task
        elif task.kind == "on_success":
            self.on_success = task
        else:
            self.default_tasks.append(task)
        self._compiled = None
        self._registry.add_task(self, task)

    def task_map(self) -> dict[str, Task[TWorkflowInput, Any]]:
        return {t.name: t for t in self.tasks}

    def compiled(self) -> Any:
        """The run-time shape (children, descendants, roots), computed once."""
        if self._compiled is None:
            self._compiled = Shape.build(self)
        return self._compiled

    # --- input ----------
    def _dump_input(self, input: Any) -> Any:
        """Validate and serialise an input; a bad input raises before anything is sent."""
        if input is None:
            input = EmptyModel() if self.input_validator is EmptyModel else {}
        if isinstance(input, str):
            import json

            input = json.loads(input)
        if dataclasses.is_dataclass(input) and not isinstance(input, type):
            input = dataclasses.asdict(input)
        elif hasattr(input, "model_dump"):
            input = input.model_dump(mode="json")
        value = self._input_adapter.validate_python(input)
        return self._input_adapter.dump_python(value, mode="json")

    def _parse_input(self, raw: Any) -> TWorkflowInput:
        result: TWorkflowInput = self._input_adapter.validate_python(raw or {})
        return result

    # --- triggering ----------
    def _trigger_config(
        self, args: TriggerArgs[Any] | RunArgs[Any], key: str | None = None
    ) -> WorkflowRunTriggerConfig:
        """One trigger of this workflow, its input and options checked."""
        import json

        options = args.options
        opts = options.model_copy() if options is not None else TriggerWorkflowOptions()
        if options is not None:
            _warn_options()
        if args.child_key is not None:
            opts.child_key = args.child_key
        if args.additional_metadata is not None:
            opts.additional_metadata = {**opts.additional_metadata, **args.additional_metadata}
        if args.priority is not None:
            opts.priority = int(args.priority)
        _check_priority(opts.priority, f"trigger of workflow {self.name!r}")
        opts.sticky = args.sticky or opts.sticky
        if args.desired_worker_id is not None:
            opts.desired_worker_id = args.desired_worker_id
        if args.desired_worker_labels:
            opts.desired_worker_label = list(args.desired_worker_labels)
        return WorkflowRunTriggerConfig(
            workflow_name=self.name,
            input=json.dumps(self._dump_input(args.input)),
            options=opts,
            key=key,
        )

    def _client(self) -> Client:
        return self._registry.client()

    def _ref(self, run_id: str) -> Any:
        return WorkflowRunRef(run_id, self._registry)

    def _submit(self, item: WorkflowRunTriggerConfig) -> Any:
        return self._ref(self._client().trigger(self, [item])[0])

    async def _aio_submit(self, item: WorkflowRunTriggerConfig) -> Any:
        async with _reserving([item]):
            run_ids = await self._client().aio_trigger(self, [item])
        return self._ref(run_ids[0])

    @takes(TriggerArgs[TWorkflowInput])
    def _run_no_wait(self, args: TriggerArgs[TWorkflowInput]) -> Any:
        return self._submit(self._trigger_config(args))

    @takes(TriggerArgs[TWorkflowInput])
    async def _aio_run_no_wait(self, args: TriggerArgs[TWorkflowInput]) -> Any:
        return await self._aio_submit(self._trigger_config(args))

    @takes(RunArgs[TWorkflowInput])
    def _run(self, args: RunArgs[TWorkflowInput]) -> Any:
        ref = self._submit(self._trigger_config(args))
        return ref.result() if args.wait_for_result else ref

    @takes(RunArgs[TWorkflowInput])
    async def _aio_run(self, args: RunArgs[TWorkflowInput]) -> Any:
        ref = await self._aio_submit(self._trigger_config(args))
        if not args.wait_for_result:
            return ref
        async with _awaiting([ref]):
            return await ref.aio_result()

    # The public names: ``Workflow`` and ``Standalone`` declare their types
    # (``run_calls.py``), each with its own result and reference types.
    if not TYPE_CHECKING:
        run, aio_run = _run, _aio_run
        run_no_wait, aio_run_no_wait = _run_no_wait, _aio_run_no_wait

    def create_bulk_run_item(
        self,
        input: TWorkflowInput = cast(Any, EmptyModel()),
        key: str | None = None,
        options: TriggerWorkflowOptions | None = None,
        child_key: str | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: Priority | int | None = None,
        desired_worker_id: str | None = None,
        sticky: bool = False,
        desired_worker_labels: list[DesiredWorkerLabel] | None = None,
    ) -> WorkflowRunTriggerConfig:
        given = arguments(locals())
        key = given.pop("key")
        return self._trigger_config(TriggerArgs(**given), key)

    def _targets(self, workflows: list[WorkflowRunTriggerConfig]) -> list[_Group]:
        """The items by the workflow they name (Hatchet runs an item built by another
        workflow's ``create_bulk_run_item`` as that workflow), in first-seen order."""
        groups: dict[str, list[int]] = {}
        for i, item in enumerate(workflows):
            groups.setdefault(item.workflow_name or self.name, []).append(i)
        out: list[_Group] = []
        for name, indices in groups.items():
            target = self if name == self.name else self._registry.workflows.get(name)
            if target is None:
                raise ValueError(
                    f"run_many of workflow {self.name!r}: an item names workflow {name!r}, "
                    "which is not declared in this process"
                )
            out.append(_Group(target, indices, [workflows[i] for i in indices]))
        return out

    def run_many_no_wait(self, workflows: list[WorkflowRunTriggerConfig]) -> list[Any]:
        groups = self._targets(workflows)
        run_ids = [self._client().trigger(g.target, g.items, bulk=True) for g in groups]
        return _refs(len(workflows), groups, run_ids)

    async def aio_run_many_no_wait(self, workflows: list[WorkflowRunTriggerConfig]) -> list[Any]:
        groups = self._targets(workflows)
        run_ids = []
        for g in groups:
            async with _reserving(g.items):
                run_ids.append(await self._client().aio_trigger(g.target, g.items, bulk=True))
        return _refs(len(workflows), groups, run_ids)

    def run_many(
        self,
        workflows: list[WorkflowRunTriggerConfig],
        return_exceptions: bool = False,
        wait_for_result: bool = True,
    ) -> list[Any]:
        refs = self.run_many_no_wait(workflows)
        if not wait_for_result:
            return refs
        return self._client().results(refs, return_exceptions)

    async def aio_run_many(
        self,
        workflows: list[WorkflowRunTriggerConfig],
        return_exceptions: bool = False,
        wait_for_result: bool = True,
    ) -> list[Any]:
        refs = await self.aio_run_many_no_wait(workflows)
        if not wait_for_result:
            return refs
        async with _awaiting(refs):
            return await self._client().aio_results(refs, return_exceptions)

    def get_run_ref(self, run_id: str) -> Any:
        return self._ref(run_id)

    def get_result(self, run_id: str) -> Any:
        return self._ref(run_id).result()

    async def aio_get_result(self, run_id: str) -> Any:
        return await self._ref(run_id).aio_result()

    # --- scheduling (implemented by the schedules feature) -----------------------------------
    def schedule(
        self,
        run_at: datetime,
        input: TWorkflowInput = cast(Any, EmptyModel()),
        options: ScheduleTriggerWorkflowOptions | None = None,
        child_key: str | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
    ) -> Any:
        if options is not None:
            _warn_options()
            additional_metadata = {**options.additional_metadata, **(additional_metadata or {})}
            priority = priority if priority is not None else options.priority
        _check_priority(priority, f"schedule of workflow {self.name!r}")
        return self._registry.features().scheduled.schedule_version(
            workflow_name=self.name,
            trigger_at=run_at,
            input=self._dump_input(input),
            additional_metadata=additional_metadata or {},
            priority=priority,
        )

    aio_schedule = aio_twin(schedule)

    def create_cron(
        self,
        cron_name: str,
        expression: str,
        input: TWorkflowInput = cast(Any, EmptyModel()),
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
    ) -> Any:
        return self._registry.features().cron.create(
            workflow_name=self.name,
            cron_name=cron_name,
            expression=expression,
            input=self._dump_input(input),
            additional_metadata=additional_metadata or {},
            priority=priority,
        )

    aio_create_cron = aio_twin(create_cron)

    # --- the workflow's own feature calls (hatchet.workflows / runs / filters) -------------
    def _features(self) -> Any:
        return self._registry.features()

    def pause(
        self,
        queue_ttl: timedelta,
        paused_workflow_cron_run_queue_behavior: Literal["DROP", "QUEUE"] = "QUEUE",
        paused_workflow_scheduled_run_queue_behavior: Literal["DROP", "QUEUE"] = "QUEUE",
    ) -> Any:
        """Pause the workflow (``hatchet.workflows.pause``); returns the updated workflow."""
        return self._features().workflows.pause(
            self.id,
            queue_ttl,
            paused_workflow_cron_run_queue_behavior,
            paused_workflow_scheduled_run_queue_behavior,
        )

    aio_pause = aio_twin(pause)

    def unpause(self) -> Any:
        """Unpause the workflow (``hatchet.workflows.unpause``)."""
        return self._features().workflows.unpause(self.id)

    aio_unpause = aio_twin(unpause)

    def delete(self) -> None:
        """Forget the workflow's registration (``hatchet.workflows.delete``)."""
        self._features().workflows.delete(self.id)

    aio_delete = aio_twin(delete)

    def list_runs(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int | None = None,
        statuses: list[Any] | None = None,
        additional_metadata: dict[str, str] | None = None,
        worker_id: str | None = None,
        parent_task_external_id: str | None = None,
        only_tasks: bool = False,
        triggering_event_external_id: str | None = None,
    ) -> list[Any]:
        """The runs of this workflow (``V1TaskSummary`` rows, newest first)."""
        filters = arguments(locals())
        rows: list[Any] = self._features().runs.list_with_pagination(
            workflow_ids=[self.id], **filters
        )
        return rows

    aio_list_runs = aio_twin(list_runs)

    def create_filter(
        self, expression: str, scope: str, payload: dict[str, Any] | None = None
    ) -> Any:
        """A filter on this workflow's event triggers (``hatchet.filters.create``)."""
        return self._features().filters.create(
            workflow_id=self.id, expression=expression, scope=scope, payload=payload
        )

    aio_create_filter = aio_twin(create_filter)

    def to_proto(self) -> Any:
        """The declaration with the fields of Hatchet's ``CreateWorkflowVersionRequest``."""
        return declaration_of(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def batch_config(where: str, options: object) -> BatchTaskConfig:
    """A batch task's settings (the ``batch_*`` attributes of its decorator's options),
    checked at declaration (the group key compiles)."""
    try:
        spec = BatchTaskConfig.model_validate(options, from_attributes=True)
    except ValidationError as exc:
        reasons = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise DeclarationError(f"{where}: {reasons}") from None
    if spec.batch_max_size <= 0:
        raise DeclarationError(f"{where}: batch_max_size must be a positive integer")
    interval = spec.batch_max_interval
    if interval is not None and interval.total_seconds() <= 0:
        raise DeclarationError(f"{where}: batch_max_interval must be positive when provided")
    if spec.batch_group_max_runs is not None and spec.batch_group_max_runs <= 0:
        raise DeclarationError(
            f"{where}: batch_group_max_runs must be a positive integer when provided"
        )
    group_program(spec)
    return spec


@asynccontextmanager
async def _reserving(items: list[WorkflowRunTriggerConfig]) -> AsyncIterator[None]:
    """An async trigger from a task takes its child indices when it is called, not when
    its thread runs, so concurrent spawns keep their call order; a durable task executed
    again finds each earlier child by what it spawned (``DurableContext``)."""
    ctx = current_context.get()
    if ctx is None:
        yield
        return
    indices = await ctx._reserve_child_indices(
        [(i.workflow_name, i.input or "{}", bool(i.options.child_key)) for i in items]
    )
    with ctx._using_child_indices(indices):
        yield


def _awaiting(refs: list[Any]) -> AbstractAsyncContextManager[None]:
    """A durable task awaiting child runs is waiting: its eviction policy applies."""
    hold = getattr(current_context.get(), "_awaiting_children", None)
    if hold is None:
        return nullcontext()
    return cast(AbstractAsyncContextManager[None], hold([r.workflow_run_id for r in refs]))


class Workflow(BaseWorkflow[TWorkflowInput]):
    """A DAG of tasks; ``run()`` returns ``{task_name: output}``."""

    if TYPE_CHECKING:  # what a type checker sees of BaseWorkflow's trigger methods
        run: RunCall[TWorkflowInput, dict[str, Any], WorkflowRunRef]
        aio_run: RunCall[TWorkflowInput, Awaiting[dict[str, Any]], Awaiting[WorkflowRunRef]]
        run_no_wait: NoWaitCall[TWorkflowInput, WorkflowRunRef]
        aio_run_no_wait: NoWaitCall[TWorkflowInput, Awaiting[WorkflowRunRef]]

    def _task_options(self, fn: Callable[..., Any], given: dict[str, Any]) -> dict[str, Any]:
        """A task's name, and the options its decorator (``given``: its options) left at
        Hatchet's default filled in from the workflow's ``task_defaults``."""
        defaults = self.config.task_defaults
        opts: dict[str, Any] = {"name": (given["name"] or fn.__name__).lower()}
        for option, hatchets in _DEFAULTED.items():
            value, workflows = given.get(option, hatchets), getattr(defaults, option)
            opts[option] = workflows if value == hatchets and workflows is not None else value
        return opts

    def _declare(
        self, options: TaskOptions[Any] | DurableTaskOptions[Any], is_durable: bool = False
    ) -> TaskDecorator[TWorkflowInput]:
        """The decorator ``task`` and ``durable_task`` return: every option they take
        reaches the ``Task``."""
        given = dict(vars(options))

        def decorator(fn: Callable[..., Any]) -> Task[TWorkflowInput, Any]:
            opts = self._task_options(fn, given)
            task: Task[TWorkflowInput, Any] = Task(
                fn=fn,
                workflow=self,
                is_durable=is_durable,
                desired_worker_labels=_labels(given["desired_worker_labels"]),
                concurrency=normalise_concurrency(given["concurrency"], f"task {opts['name']!r}"),
                **{k: v for k, v in given.items() if k not in _ROUTED_OPTIONS and k not in opts},
                **opts,
            )
            self._add(task)
            return task

        return decorator

    @takes(TaskOptions[TWorkflowInput])
    def task(self, options: TaskOptions[TWorkflowInput]) -> TaskDecorator[TWorkflowInput]:
        return self._declare(options)

    @takes(DurableTaskOptions[TWorkflowInput])
    def durable_task(
        self, options: DurableTaskOptions[TWorkflowInput]
    ) -> TaskDecorator[TWorkflowInput]:
        return self._declare(options, is_durable=True)

    @takes(BatchTaskOptions[TWorkflowInput])
    def batch_task(
        self, options: BatchTaskOptions[TWorkflowInput]
    ) -> Callable[[Callable[..., Any]], Task[TWorkflowInput, Any]]:
        """A batch task: its function takes ``{BatchMemberId: input}`` for every member of
        a batch and returns ``{BatchMemberId: output}`` (or one output for all, with
        ``broadcast_output``); see ``_runtime/flow/batch.py``."""
        o = options
        spec = batch_config(f"batch task {o.name!r} of workflow {self.name!r}", o)

        def decorator(fn: Callable[..., Any]) -> Task[TWorkflowInput, Any]:
            task: Task[TWorkflowInput, Any] = Task(
                fn=batch_function(fn, spec),
                workflow=self,
                parents=o.parents,
                rate_limits=o.rate_limits,
                desired_worker_labels=_labels(o.desired_worker_labels),
                batch=spec,
                **self._task_options(fn, vars(o)),
            )
            self._add(task)
            return task

        return decorator

    def _special_options(
        self,
        name: str | None = None,
        schedule_timeout: Duration = DEFAULT_SCHEDULE_TIMEOUT,
        execution_timeout: Duration = DEFAULT_EXECUTION_TIMEOUT,
        retries: int = 0,
        rate_limits: list[RateLimit] | None = None,
        backoff_factor: float | None = None,
        backoff_max_seconds: int | None = None,
        concurrency: int | list[ConcurrencyExpression] | None = None,
    ) -> dict[str, Any]:
        """The parameters of ``on_failure_task`` and ``on_success_task``."""
        return arguments(locals())

    def _special_task(self, kind: str, options: dict[str, Any]) -> TaskDecorator[TWorkflowInput]:
        label = kind.replace("_", "-")
        name = options.pop("name")
        concurrency = normalise_concurrency(options.pop("concurrency"), f"{label} task")

        def decorator(fn: Callable[..., Any]) -> Task[TWorkflowInput, Any]:
            if getattr(self, kind) is not None:
                what = "on-failure" if kind == "on_failure" else "on-success"
                raise DeclarationError(f"workflow {self.name!r}: only one {what} task is allowed")
            task: Task[TWorkflowInput, Any] = Task(
                fn=fn,
                workflow=self,
                name=f"{(name or fn.__name__).lower()}-{label}",  # Hatchet's naming
                kind=kind,
                concurrency=concurrency,
                **options,
            )
            self._add(task)
            return task

        return decorator

    @parameters(_special_options)
    def on_failure_task(self, options: dict[str, Any]) -> TaskDecorator[TWorkflowInput]:
        return self._special_task("on_failure", options)

    @parameters(_special_options)
    def on_success_task(self, options: dict[str, Any]) -> TaskDecorator[TWorkflowInput]:
        return self._special_task("on_success", options)

    def add_task(self, task: Standalone[TWorkflowInput, Any]) -> None:
        self._add(task._task.copy_to(self))


class Standalone(BaseWorkflow[TWorkflowInput], Mockable[TWorkflowInput, R]):
    """A single task declared with ``@hatchet.task``; results are its typed output."""

    _task: Task[TWorkflowInput, R]

    if TYPE_CHECKING:  # what a type checker sees of BaseWorkflow's trigger methods
        run: RunCall[TWorkflowInput, R, TaskRunRef[TWorkflowInput, R]]
        aio_run: RunCall[TWorkflowInput, Awaiting[R], Awaiting[TaskRunRef[TWorkflowInput, R]]]
        run_no_wait: NoWaitCall[TWorkflowInput, TaskRunRef[TWorkflowInput, R]]
        aio_run_no_wait: NoWaitCall[TWorkflowInput, Awaiting[TaskRunRef[TWorkflowInput, R]]]

    def _attach(self, task: Task[TWorkflowInput, R]) -> None:
        self._task = task
        self._add(task)
        self.output_validator = task.output_adapter
        self.output_validator_type = task.output_type
        self.is_async_function = task.is_async_function
        self.is_durable = task.is_durable

    def _extract(self, result: dict[str, Any]) -> R:
        raw = result.get(self._task.name) or result or {}
        if raw is result and self._task.name in result:
            raw = {}
        return self._task.parse_output(raw)

    def _ref(self, run_id: str) -> Any:
        return TaskRunRef(self, WorkflowRunRef(run_id, self._registry))

    def _mock(self, args: MockArgs[Any]) -> R:
        return self._task._mock(args)

    async def _aio_mock(self, args: MockArgs[Any]) -> R:
        return await self._task._aio_mock(args)


__all__ = ["BaseWorkflow", "Standalone", "TaskRunRef", "Workflow", "WorkflowRunRef"]
_ = (DefaultFilter, StickyStrategy)
