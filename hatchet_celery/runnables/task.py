"""``Task``: one node of a workflow, with its options checked and frozen at declaration."""

from __future__ import annotations

import asyncio
import inspect
import typing
import warnings
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager, AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel, TypeAdapter

from hatchet_celery._durations import Duration, to_seconds
from hatchet_celery._twins import arguments
from hatchet_celery.conditions import Action, Condition, OrGroup, flatten
from hatchet_celery.exceptions import DeclarationError, InvalidDependencyError
from hatchet_celery.labels import DesiredWorkerLabel
from hatchet_celery.rate_limit import RateLimit
from hatchet_celery.runnables.eviction import EvictionPolicy
from hatchet_celery.runnables.mock import Mockable, MockArgs, aio_mock_run, mock_run
from hatchet_celery.runnables.types import BatchTaskConfig, ConcurrencyExpression, EmptyModel
from hatchet_celery.serde import HATCHET_PYDANTIC_SENTINEL

if TYPE_CHECKING:
    from hatchet_celery.context import Context
    from hatchet_celery.runnables.workflow import BaseWorkflow

TWorkflowInput = TypeVar("TWorkflowInput")
R = TypeVar("R")


class Depends:
    """Marks a task parameter as ``Annotated[T, Depends(fn)]``: ``fn(input, ctx)`` supplies it."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        params = inspect.signature(fn).parameters
        if len(params) < 2:
            raise InvalidDependencyError(
                f"dependency {getattr(fn, '__name__', fn)!r} must take "
                "(input, ctx) as its first two parameters"
            )
        self.dependency = fn

    @property
    def fn(self) -> Callable[..., Any]:
        """The dependency function (Hatchet marks this property internal, to be removed)."""
        warnings.warn(
            "Depends.fn is internal and will be removed (as in Hatchet v2)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.dependency

    def __repr__(self) -> str:
        return f"Depends({getattr(self.dependency, '__name__', self.dependency)})"


def _find_depends(annotation: Any) -> Depends | None:
    """The ``Depends`` marker of an ``Annotated`` annotation (also through type aliases)."""
    value = getattr(annotation, "__value__", None)  # PEP 695 ``type X = Annotated[...]``
    if value is not None:
        annotation = value
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in annotation.__metadata__:
            if isinstance(meta, Depends):
                return meta
    return None


def _dependency_params(fn: Callable[..., Any]) -> dict[str, Depends]:
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:
        hints = {}
    found: dict[str, Depends] = {}
    for name, param in inspect.signature(fn).parameters.items():
        dep = _find_depends(hints.get(name, param.annotation))
        if dep is not None:
            found[name] = dep
    return found


async def _call_dependency(
    dep: Depends, input: Any, ctx: Any, stack: AsyncExitStack, seen: tuple[Any, ...]
) -> Any:
    if dep.dependency in seen:
        raise InvalidDependencyError(f"dependency cycle through {dep!r}")
    nested = {
        name: await _call_dependency(inner, input, ctx, stack, (*seen, dep.dependency))
        for name, inner in _dependency_params(dep.dependency).items()
    }
    fn = dep.dependency
    if inspect.iscoroutinefunction(fn):
        value = await fn(input, ctx, **nested)
    elif inspect.isasyncgenfunction(fn):
        value = await stack.enter_async_context(_agen_cm(fn(input, ctx, **nested)))
    elif inspect.isgeneratorfunction(fn):
        value = stack.enter_context(_gen_cm(fn(input, ctx, **nested)))
    else:
        value = await asyncio.to_thread(fn, input, ctx, **nested)
    if isinstance(value, AbstractAsyncContextManager):
        value = await stack.enter_async_context(value)
    elif isinstance(value, AbstractContextManager):
        value = stack.enter_context(value)
    return value


def _gen_cm(gen: Any) -> AbstractContextManager[Any]:
    from contextlib import contextmanager

    @contextmanager
    def cm() -> Any:
        yield from gen

    return cm()


def _agen_cm(agen: Any) -> AbstractAsyncContextManager[Any]:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def cm() -> Any:
        async for value in agen:
            yield value

    return cm()


def _output_type(fn: Callable[..., Any]) -> Any:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = dict(getattr(fn, "__annotations__", {}))
    ret = hints.get("return")
    if ret is None or ret is type(None):
        return EmptyModel
    return ret


def _check_signature(fn: Callable[..., Any], where: str, deps: dict[str, Depends]) -> None:
    if not callable(fn):
        raise DeclarationError(f"{where}: {fn!r} is not callable")
    params = [
        p
        for name, p in inspect.signature(fn).parameters.items()
        if name not in deps and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) < 2:
        raise DeclarationError(
            f"{where}: function {fn.__name__!r} must take (input, ctx); "
            f"it takes ({', '.join(p.name for p in params)})"
        )
    required = [p for p in positional[2:] if p.default is p.empty] + [
        p for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    ]
    if required:
        raise DeclarationError(
            f"{where}: function {fn.__name__!r} has parameters beyond (input, ctx) that are "
            f"neither defaulted nor Depends(...): {', '.join(p.name for p in required)}"
        )


def _positive(value: float | int | None, what: str, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        raise DeclarationError(f"{what} must be {'>= 0' if allow_zero else '> 0'}, got {value}")


@dataclass(frozen=True)
class ConditionSet:
    """A task's conditions by action, as CNF groups."""

    action: Action
    groups: list[list[Condition]]


class Task(Mockable[TWorkflowInput, R]):
    """A task of a workflow. Not runnable by itself: trigger its workflow."""

    name: str
    celery_name: str

    def __init__(
        self,
        *,
        fn: Callable[..., Any],
        workflow: BaseWorkflow[TWorkflowInput],
        name: str,
        kind: str = "default",
        is_durable: bool = False,
        parents: list[Task[TWorkflowInput, Any]] | None = None,
        retries: int = 0,
        backoff_factor: float | None = None,
        backoff_max_seconds: int | None = None,
        execution_timeout: Duration = timedelta(seconds=60),
        schedule_timeout: Duration = timedelta(minutes=5),
        rate_limits: list[RateLimit] | None = None,
        concurrency: list[ConcurrencyExpression] | None = None,
        desired_worker_labels: list[DesiredWorkerLabel] | None = None,
        wait_for: list[Condition | OrGroup] | None = None,
        skip_if: list[Condition | OrGroup] | None = None,
        cancel_if: list[Condition | OrGroup] | None = None,
        slot_cost: int | None = None,
        eviction_policy: EvictionPolicy | None = None,
        batch: BatchTaskConfig | None = None,
    ) -> None:
        self._declared = arguments(locals())  # what copy_to declares again
        where = f"task {name!r} of workflow {workflow.name!r}"
        self.fn = fn
        self.workflow = workflow
        self.name = name
        self.kind = kind
        self.is_durable = is_durable
        # when a waiting durable task gives up its memory (runnables/eviction.py)
        self.eviction_policy = eviction_policy if is_durable else None
        self.batch = batch  # a batch task (_runtime/flow/batch.py): members run as one execution
        self.is_async_function = inspect.iscoroutinefunction(fn)
        self.dependencies = _dependency_params(fn)
        _check_signature(fn, where, self.dependencies)
        self.parents: list[Task[TWorkflowInput, Any]] = list(parents or [])
        if not isinstance(retries, int) or isinstance(retries, bool):
            raise DeclarationError(f"{where}: retries must be an int, got {retries!r}")
        _positive(retries, f"{where}: retries", allow_zero=True)
        _positive(backoff_factor, f"{where}: backoff_factor")
        _positive(backoff_max_seconds, f"{where}: backoff_max_seconds")
        _positive(slot_cost, f"{where}: slot_cost")
        self.retries = retries
        self.backoff_factor = backoff_factor
        self.backoff_max_seconds = backoff_max_seconds
        self.execution_timeout = execution_timeout
        self.schedule_timeout = schedule_timeout
        self.execution_timeout_s = to_seconds(execution_timeout, what=f"{where}: execution_timeout")
        self.schedule_timeout_s = to_seconds(schedule_timeout, what=f"{where}: schedule_timeout")
        _positive(self.execution_timeout_s, f"{where}: execution_timeout")
        _positive(self.schedule_timeout_s, f"{where}: schedule_timeout")
        self.rate_limits = list(rate_limits or [])
        self.concurrency = list(concurrency or [])
        self.desired_worker_labels = list(desired_worker_labels or [])
        self.slot_cost = slot_cost or 1
        self.wait_for = list(wait_for or [])
        self.skip_if = list(skip_if or [])
        self.cancel_if = list(cancel_if or [])
        self.conditions = [
            ConditionSet(Action.QUEUE, flatten(self.wait_for)),
            ConditionSet(Action.SKIP, flatten(self.skip_if)),
            ConditionSet(Action.CANCEL, flatten(self.cancel_if)),
        ]
        keys = [c.readable_data_key for cs in self.conditions for g in cs.groups for c in g]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise DeclarationError(
                f"{where}: conditions must have unique readable_data_key values; "
                f"repeated: {', '.join(dupes)}"
            )
        self.output_type = _output_type(fn)
        self.output_adapter: TypeAdapter[Any] = TypeAdapter(self.output_type)
        self.celery_name = f"hatchet.{workflow.name}.{name}"

    def __repr__(self) -> str:
        return f"<Task {self.workflow.name}.{self.name}>"

    def copy_to(self, workflow: BaseWorkflow[TWorkflowInput]) -> Task[TWorkflowInput, R]:
        """This task declared again, with every option, on ``workflow``."""
        return Task(**{**self._declared, "workflow": workflow})

    @property
    def max_attempts(self) -> int:
        return self.retries + 1

    def backoff_seconds(self, retry_number: int) -> float:
        """Delay before retry ``retry_number`` (1-based): ``min(max, factor ** n)``."""
        if not self.backoff_factor:
            return 0.0
        delay = float(self.backoff_factor) ** retry_number
        if self.backoff_max_seconds is not None:
            delay = min(delay, float(self.backoff_max_seconds))
        return delay

    @property
    def output_validator(self) -> TypeAdapter[R]:
        """The adapter that validates this task's output (its return annotation)."""
        return cast(TypeAdapter[R], self.output_adapter)

    @property
    def output_validator_type(self) -> type[R]:
        return cast(type[R], self.output_type)

    def call(self, ctx: Context, dependencies: dict[str, Any] | None = None) -> R:
        """Call the (sync) task function with ``ctx``'s input, outside any run."""
        if self.is_async_function:
            raise TypeError(f"{self.name} is not a sync function. Use `aio_call` instead.")
        result: R = self.fn(ctx._input, ctx, **(dependencies or {}))
        return result

    async def aio_call(self, ctx: Context, dependencies: dict[str, Any] | None = None) -> R:
        """Await the (async) task function with ``ctx``'s input, outside any run."""
        if not self.is_async_function:
            raise TypeError(f"{self.name} is not an async function. Use `call` instead.")
        result: R = await self.fn(ctx._input, ctx, **(dependencies or {}))
        return result

    def parse_output(self, raw: Any) -> R:
        """Validate a stored output into this task's return annotation."""
        result: R = self.output_adapter.validate_python(raw, context=HATCHET_PYDANTIC_SENTINEL)
        return result

    async def resolve_dependencies(
        self, input: Any, ctx: Context, stack: AsyncExitStack
    ) -> dict[str, Any]:
        return {
            name: await _call_dependency(dep, input, ctx, stack, ())
            for name, dep in self.dependencies.items()
        }

    # --- engine-free unit testing (mock_run / aio_mock_run: Mockable) ----------------------
    def _mock(self, args: MockArgs[Any]) -> R:
        if self.is_async_function:
            raise TypeError(
                f"task {self.name!r} is async: use aio_mock_run() instead of mock_run()"
            )
        result: R = mock_run(self, args)
        return result

    async def _aio_mock(self, args: MockArgs[Any]) -> R:
        if not self.is_async_function:
            raise TypeError(f"task {self.name!r} is sync: use mock_run() instead of aio_mock_run()")
        result: R = await aio_mock_run(self, args)
        return result


def is_model_type(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)
