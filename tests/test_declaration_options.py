"""The task decorators take their options from one dataclass each (``runnables/options.py``):
users see Hatchet's parameter lists, and every option reaches the declared task.
Declarations only: nothing here touches Redis or Celery."""

from __future__ import annotations

import inspect
from datetime import timedelta
from typing import Any

import pytest

from hatchet_celery import ClientConfig, Context, EmptyModel, EvictionPolicy, Hatchet
from hatchet_celery.exceptions import DeclarationError
from hatchet_celery.runnables.workflow import Workflow

h = Hatchet(config=ClientConfig(namespace="declaration_options"))

WORKFLOW_TASK = [
    "name", "schedule_timeout", "execution_timeout", "parents", "retries", "rate_limits",
    "desired_worker_labels", "backoff_factor", "backoff_max_seconds", "concurrency",
    "wait_for", "skip_if", "cancel_if",
]  # fmt: skip
STANDALONE = [
    "name", "description", "input_validator", "on_events", "on_crons", "cron_input",
    "version", "sticky", "default_priority", "concurrency", "schedule_timeout",
    "execution_timeout", "retries", "rate_limits", "desired_worker_labels", "backoff_factor",
    "backoff_max_seconds", "default_filters", "default_additional_metadata", "idempotency",
]  # fmt: skip


def _kinds(method: Any) -> list[tuple[str, str]]:
    return [(n, p.kind.name) for n, p in inspect.signature(method).parameters.items()]


def test_the_decorators_show_hatchets_parameters_in_hatchets_order() -> None:
    positional, keyword = "POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"
    assert _kinds(Workflow.task)[1:] == [(n, positional) for n in [*WORKFLOW_TASK, "slot_cost"]]
    assert _kinds(Workflow.durable_task)[1:] == [
        (n, positional) for n in [*WORKFLOW_TASK, "eviction_policy"]
    ]
    assert _kinds(h.task) == [(n, keyword) for n in [*STANDALONE, "slot_cost"]]
    assert _kinds(h.durable_task) == [(n, keyword) for n in [*STANDALONE, "eviction_policy"]]
    batch = inspect.signature(Workflow.batch_task).parameters
    assert list(batch)[:3] == ["self", "name", "batch_max_size"]
    assert batch["batch_max_size"].kind is inspect.Parameter.KEYWORD_ONLY
    assert batch["batch_max_size"].default is inspect.Parameter.empty
    assert inspect.signature(h.batch_task).parameters["batch_max_size"].default == 1


def test_positional_options_reach_the_workflow_task() -> None:
    wf = h.workflow(name="positional")

    @wf.task("first", timedelta(minutes=1), timedelta(seconds=7), None, 2)
    def first(input: EmptyModel, ctx: Context) -> None:
        return None

    assert (first.name, first.schedule_timeout_s, first.execution_timeout_s) == ("first", 60, 7)
    assert first.retries == 2


def test_add_task_declares_the_standalone_again_with_every_option() -> None:
    policy = EvictionPolicy(ttl=timedelta(seconds=30))

    @h.durable_task(name="Standalone_Durable", retries=3, eviction_policy=policy)
    def alone(input: EmptyModel, ctx: Context) -> None:
        return None

    @h.task(name="standalone_costly", slot_cost=2, backoff_factor=2.0)
    def costly(input: EmptyModel, ctx: Context) -> None:
        return None

    wf = h.workflow(name="gathers")
    wf.add_task(alone)
    wf.add_task(costly)
    copy, inner = wf.task_map()["standalone_durable"], alone._task
    assert copy is not inner and copy.workflow is wf
    assert copy.celery_name == f"hatchet.{wf.name}.standalone_durable"
    assert (copy.is_durable, copy.retries, copy.eviction_policy) == (True, 3, policy)
    costly_copy = wf.task_map()["standalone_costly"]
    assert (costly_copy.slot_cost, costly_copy.backoff_factor) == (2, 2.0)
    assert inner.workflow is alone  # the standalone keeps its own task


def test_a_batch_option_of_the_wrong_type_is_a_declaration_error() -> None:
    with pytest.raises(DeclarationError, match="batch task 'bad_batch'.*batch_max_size"):
        h.batch_task(name="bad_batch", batch_max_size="many")(  # type: ignore[arg-type]
            lambda input, ctx: {}
        )
