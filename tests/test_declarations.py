"""Declarations are checked at decoration time (pure: no Redis, no Celery involved)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from pydantic import BaseModel, ValidationError

from hatchet_celery import (
    ClientConfig,
    ConcurrencyExpression,
    ConcurrencyLimitStrategy,
    Context,
    EmptyModel,
    Hatchet,
    SleepCondition,
    TaskDefaults,
)
from hatchet_celery.exceptions import DeclarationError

# A namespace of its own; nothing here is ever triggered except the input-validation
# test, which must fail before anything reaches Redis.
h = Hatchet(config=ClientConfig(namespace="declarations"))


def test_task_names_are_lower_cased_and_workflow_names_namespaced() -> None:
    wf = h.workflow(name="MixedCase")

    @wf.task(name="StepOne")
    def step(input: EmptyModel, ctx: Context) -> None:
        return None

    assert step.name == "stepone"
    assert wf.name == "declarations_MixedCase"
    assert step.celery_name == "hatchet.declarations_MixedCase.stepone"


def test_defaults_match_hatchet() -> None:
    @h.task()
    def plain(input: EmptyModel, ctx: Context) -> None:
        return None

    task = plain._task
    assert task.retries == 0
    assert task.execution_timeout_s == 60
    assert task.schedule_timeout_s == 300
    assert plain.config.default_priority == 1
    assert plain.input_validator is EmptyModel


def test_function_must_take_input_and_ctx() -> None:
    with pytest.raises(DeclarationError, match="one_arg.*must take \\(input, ctx\\)"):

        @h.task()
        def one_arg(input: EmptyModel) -> None:
            return None


def test_unknown_parent_is_rejected() -> None:
    a = h.workflow(name="A")
    b = h.workflow(name="B")

    @a.task()
    def in_a(input: EmptyModel, ctx: Context) -> None:
        return None

    with pytest.raises(DeclarationError, match="unknown parent 'in_a'"):

        @b.task(parents=[in_a])
        def in_b(input: EmptyModel, ctx: Context) -> None:
            return None


def test_duplicate_task_names_are_rejected() -> None:
    wf = h.workflow(name="Dupes")

    @wf.task(name="same")
    def one(input: EmptyModel, ctx: Context) -> None:
        return None

    with pytest.raises(DeclarationError, match="already has a task named 'same'"):

        @wf.task(name="SAME")
        def two(input: EmptyModel, ctx: Context) -> None:
            return None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retries": -1}, "retries must be >= 0"),
        ({"execution_timeout": timedelta(0)}, "execution_timeout must be > 0"),
        ({"schedule_timeout": timedelta(seconds=-1)}, "schedule_timeout must be > 0"),
        ({"backoff_factor": 0}, "backoff_factor must be > 0"),
        ({"default_priority": 7}, "priority must be 1, 2 or 3"),
        ({"concurrency": 0}, "concurrency must be positive"),
    ],
)
def test_illegal_option_values_name_the_task(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises((DeclarationError, ValueError), match=message):

        @h.task(name="illegal", **kwargs)  # type: ignore[arg-type]
        def illegal(input: EmptyModel, ctx: Context) -> None:
            return None


def test_conditions_need_unique_readable_keys() -> None:
    wf = h.workflow(name="Conds")
    with pytest.raises(DeclarationError, match="unique readable_data_key.*sleep:10s"):

        @wf.task(wait_for=[SleepCondition(timedelta(seconds=10))],
                 skip_if=[SleepCondition(timedelta(seconds=10))])
        def waits(input: EmptyModel, ctx: Context) -> None:
            return None


def test_task_defaults_apply_only_where_the_call_site_kept_the_default() -> None:
    wf = h.workflow(
        name="Defaults",
        task_defaults=TaskDefaults(retries=3, execution_timeout=timedelta(seconds=5)),
    )

    @wf.task()
    def inherits(input: EmptyModel, ctx: Context) -> None:
        return None

    @wf.task(retries=1, execution_timeout=timedelta(seconds=9))
    def overrides(input: EmptyModel, ctx: Context) -> None:
        return None

    assert (inherits.retries, inherits.execution_timeout_s) == (3, 5)
    assert (overrides.retries, overrides.execution_timeout_s) == (1, 9)


def test_concurrency_int_shorthand() -> None:
    @h.task(name="limited", concurrency=3)
    def limited(input: EmptyModel, ctx: Context) -> None:
        return None

    (expr,) = limited._task.concurrency
    assert expr == ConcurrencyExpression(
        expression="'constant'", max_runs=3,
        limit_strategy=ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN,
    )


class Order(BaseModel):
    order_id: int
    amount: float


@dataclass
class Point:
    x: int
    y: int


def test_bad_input_is_a_validation_error_naming_the_field_before_anything_is_sent() -> None:
    wf = h.workflow(name="Orders", input_validator=Order)

    @wf.task()
    def handle(input: Order, ctx: Context) -> None:
        return None

    with pytest.raises(ValidationError, match="order_id"):
        wf.run({"order_id": "not a number", "amount": 1.0}, wait_for_result=False)  # type: ignore[arg-type]
    # Validation happens before the engine is touched: this registry has no engine yet.
    assert h._registry._engine is None


def test_dataclass_and_dict_inputs_serialise() -> None:
    pts = h.workflow(name="Points", input_validator=Point)
    loose = h.workflow(name="Loose", input_validator=dict)
    assert pts._dump_input(Point(1, 2)) == {"x": 1, "y": 2}
    assert loose._dump_input({"a": [1, 2]}) == {"a": [1, 2]}
    with pytest.raises(ValidationError):
        pts._dump_input({"x": "no"})


def test_worker_rejects_things_that_are_not_workflows() -> None:
    wf = h.workflow(name="ForWorker")

    @wf.task()
    def t(input: EmptyModel, ctx: Context) -> None:
        return None

    with pytest.raises(TypeError, match="not a workflow"):
        h.worker("w", workflows=[t])  # a Task, not its workflow
    with pytest.warns(UserWarning, match="has no tasks; not served"):
        worker = h.worker("w", workflows=[h.workflow(name="Empty")])
    assert worker.workflows == []
