"""OpenTelemetry: spans of triggers, event pushes, schedules and task runs, one trace.

Real Redis and the session's in-process worker: the worker executes in its own threads,
so a task span finds its parent only through the ``traceparent`` in the run's metadata.
The subprocess test checks the same across processes, with a worker that exports to a file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from hatchet_celery import Context, DurableContext, EmptyModel
from hatchet_celery.opentelemetry import OpenTelemetryConfig, OTelAttribute, _hooks
from hatchet_celery.opentelemetry.instrumentor import HatchetInstrumentor
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")

provider = TracerProvider()
exporter = InMemorySpanExporter()
provider.add_span_processor(SimpleSpanProcessor(exporter))
user_tracer = provider.get_tracer("tests.otel")
EVENT_KEY = "otel_test:event"


class Msg(BaseModel):
    message: str = "hi"


# --- workflows ----------------------------------------------------------------------------
otel_dag = hatchet.workflow(name="otel_dag")


@otel_dag.task()
def extract(input: EmptyModel, ctx: Context) -> dict[str, int]:
    with user_tracer.start_as_current_span("db.query") as span:
        span.set_attribute("db.rows", 3)
    return {"rows": 3}


@otel_dag.task(parents=[extract])
def load(input: EmptyModel, ctx: Context) -> dict[str, int]:
    return {"loaded": ctx.task_output(extract)["rows"]}


@hatchet.task(name="otel_child", input_validator=Msg)
def otel_child(input: Msg, ctx: Context) -> dict[str, str]:
    with user_tracer.start_as_current_span("child.work"):
        return {"echo": input.message}


@hatchet.task(name="otel_on_event", on_events=[EVENT_KEY], input_validator=Msg)
def otel_on_event(input: Msg, ctx: Context) -> dict[str, str]:
    return {"event": input.message}


@hatchet.task(name="otel_parent", input_validator=Msg)
async def otel_parent(input: Msg, ctx: Context) -> dict[str, Any]:
    with user_tracer.start_as_current_span("spawn.child"):
        event = await hatchet.event.aio_push(EVENT_KEY, {"message": "from parent"})
        child = await otel_child.aio_run(Msg(message=input.message))
    return {"child": child, "event_id": event.event_id}


@hatchet.task(name="otel_fails", retries=1)
def otel_fails(input: EmptyModel, ctx: Context) -> None:
    raise ValueError(f"attempt {ctx.retry_count} broke")


@hatchet.durable_task(name="otel_durable")
async def otel_durable(input: EmptyModel, ctx: DurableContext) -> dict[str, Any]:
    await ctx.aio_sleep_for(timedelta(milliseconds=200))
    child = await otel_child.aio_run(Msg(message="after sleep"))
    return {"child": child}


# --- helpers --------------------------------------------------------------------------------
@pytest.fixture
def spans() -> Iterator[Callable[[], list[ReadableSpan]]]:
    """Instrumented for one test; yields a reader of the finished spans."""
    instrumentor = HatchetInstrumentor(tracer_provider=provider)
    instrumentor.instrument()
    exporter.clear()
    try:
        yield lambda: list(exporter.get_finished_spans())
    finally:
        instrumentor.uninstrument()
        exporter.clear()


def wait_until(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll ``check`` until it returns something truthy (bounded: a hang fails the test)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def named(spans: list[ReadableSpan], name: str, **attrs: Any) -> list[ReadableSpan]:
    return [
        s
        for s in spans
        if s.name == name and all((s.attributes or {}).get(k) == v for k, v in attrs.items())
    ]


def one(spans: list[ReadableSpan], name: str, **attrs: Any) -> ReadableSpan:
    found = named(spans, name, **attrs)
    assert len(found) == 1, f"{name} {attrs}: {[(s.name, dict(s.attributes or {})) for s in spans]}"
    return found[0]


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


# --- tests ----------------------------------------------------------------------------------
def test_dag_run_is_one_trace_trigger_then_tasks(spans: Callable[[], list[ReadableSpan]]) -> None:
    with user_tracer.start_as_current_span("test.root") as root:
        ref = otel_dag.run_no_wait(additional_metadata={"source": "otel-test"})
        assert ref.result() == {"extract": {"rows": 3}, "load": {"loaded": 3}}
    run_id = ref.workflow_run_id
    got = spans()

    trigger = one(got, "hatchet.run_workflow", **{"hatchet.workflow_run_id": run_id})
    assert trigger.kind == SpanKind.PRODUCER
    assert parent_of(trigger) == root.get_span_context().span_id
    attrs = trigger.attributes or {}
    assert attrs["instrumentor"] == "hatchet"
    assert attrs["hatchet.workflow_name"] == otel_dag.name
    assert json.loads(str(attrs["hatchet.additional_metadata"])) == {"source": "otel-test"}

    tasks = named(got, "hatchet.start_step_run", **{"hatchet.workflow_run_id": run_id})
    assert sorted(str((t.attributes or {})["hatchet.step_name"]) for t in tasks) == [
        "extract",
        "load",
    ]
    details = hatchet.runs.get(run_id)
    task_run_ids = {str(t.action_id).split(":")[-1]: t.task_external_id for t in details.tasks}
    for task in tasks:
        a = task.attributes or {}
        assert task.kind == SpanKind.CONSUMER
        assert parent_of(task) == span_id(trigger)  # through the run's metadata
        assert a["hatchet.step_run_id"] == task_run_ids[str(a["hatchet.step_name"])]
        assert a["hatchet.retry_count"] == 0
        assert a["hatchet.workflow_name"] == otel_dag.name
        assert a["hatchet.action_name"] == f"{otel_dag.name}:{a['hatchet.step_name']}"
        assert task.status.status_code == StatusCode.UNSET

    # a span the task starts nests under the task span and carries its hatchet.* labels
    query = one(got, "db.query")
    extract_span = one(tasks, "hatchet.start_step_run", **{"hatchet.step_name": "extract"})
    assert parent_of(query) == span_id(extract_span)
    assert (query.attributes or {})["hatchet.step_run_id"] == task_run_ids["extract"]
    assert (query.attributes or {})["db.rows"] == 3

    mine = [trigger, *tasks, query]
    assert {trace_id(s) for s in mine} == {root.get_span_context().trace_id}
    # the traceparent the run carries names the trigger span
    metadata = hatchet.runs.get(run_id).run.additional_metadata or {}
    assert f"{trace_id(trigger):032x}-{span_id(trigger):016x}" in metadata["traceparent"]


def test_child_and_event_triggered_runs_join_the_parent_trace(
    spans: Callable[[], list[ReadableSpan]],
) -> None:
    ref = otel_parent.run_no_wait(Msg(message="hello"))
    out = ref.result()
    assert out["child"] == {"echo": "hello"}
    event_runs = hatchet.event.get(out["event_id"]).triggered_runs or []
    assert len(event_runs) == 1
    event_run_id = event_runs[0].workflow_run_id
    assert hatchet.runs.get_run_ref(event_run_id).result() == {
        "otel_on_event": {"event": "from parent"}
    }

    def all_spans() -> list[ReadableSpan] | None:
        got = spans()
        done = named(got, "hatchet.start_step_run", **{"hatchet.workflow_run_id": event_run_id})
        return got if done else None

    got = wait_until(all_spans, "the event-triggered task span")
    trigger = one(got, "hatchet.run_workflow", **{"hatchet.workflow_run_id": ref.workflow_run_id})
    parent_task = one(got, "hatchet.start_step_run", **{"hatchet.step_name": "otel_parent"})
    assert parent_of(parent_task) == span_id(trigger)
    spawn = one(got, "spawn.child")
    assert parent_of(spawn) == span_id(parent_task)

    # child: trigger span inside the parent's task, then the child's task span
    child_task = one(got, "hatchet.start_step_run", **{"hatchet.step_name": "otel_child"})
    child_run_id = (child_task.attributes or {})["hatchet.workflow_run_id"]
    child_trigger = one(got, "hatchet.run_workflow", **{"hatchet.workflow_run_id": child_run_id})
    assert parent_of(child_trigger) == span_id(spawn)
    assert (child_trigger.attributes or {})["hatchet.parent_id"] == ref.workflow_run_id
    assert parent_of(child_task) == span_id(child_trigger)
    assert (child_task.attributes or {})["hatchet.parent_workflow_run_id"] == ref.workflow_run_id
    assert (child_task.attributes or {})["hatchet.child_workflow_index"] == 0

    # event: push span inside the parent's task, the run it triggered, its task span
    push = one(got, "hatchet.push_event")
    assert parent_of(push) == span_id(spawn)
    assert (push.attributes or {})["hatchet.event_key"] == hatchet.config.apply_namespace(EVENT_KEY)
    assert (push.attributes or {})["hatchet.event_id"] == out["event_id"]
    event_trigger = one(got, "hatchet.run_workflow", **{"hatchet.workflow_run_id": event_run_id})
    assert parent_of(event_trigger) == span_id(push)
    event_task = one(got, "hatchet.start_step_run", **{"hatchet.workflow_run_id": event_run_id})
    assert parent_of(event_task) == span_id(event_trigger)
    event_attrs = event_task.attributes or {}
    assert event_attrs["hatchet.triggering_event_external_id"] == out["event_id"]
    assert event_attrs["hatchet.triggering_event_key"] == hatchet.config.apply_namespace(EVENT_KEY)

    chain = [trigger, parent_task, spawn, child_trigger, child_task, push, event_trigger]
    assert len({trace_id(s) for s in [*chain, event_task]}) == 1


def test_failures_are_recorded_on_each_attempt(spans: Callable[[], list[ReadableSpan]]) -> None:
    ref = otel_fails.run_no_wait()
    with pytest.raises(Exception, match="attempt 1 broke"):
        ref.result()
    attempts = sorted(
        named(
            spans(), "hatchet.start_step_run", **{"hatchet.workflow_run_id": ref.workflow_run_id}
        ),
        key=lambda s: int((s.attributes or {})["hatchet.retry_count"]),
    )
    assert [(s.attributes or {})["hatchet.retry_count"] for s in attempts] == [0, 1]
    for n, span in enumerate(attempts):
        assert span.status.status_code == StatusCode.ERROR
        assert f"attempt {n} broke" in (span.status.description or "")
        (event,) = [e for e in span.events if e.name == "exception"]
        assert (event.attributes or {})["exception.type"] == "ValueError"


def test_bulk_trigger_and_bulk_push_are_one_span_each(
    spans: Callable[[], list[ReadableSpan]],
) -> None:
    refs = otel_child.run_many_no_wait(
        [otel_child.create_bulk_run_item(Msg(message=str(i))) for i in range(3)]
    )
    assert [r.result() for r in refs] == [{"echo": str(i)} for i in range(3)]
    got = spans()
    bulk = one(got, "hatchet.run_workflows")
    attrs = bulk.attributes or {}
    assert attrs["hatchet.num_workflows"] == 3
    assert list(attrs["hatchet.workflow_run_ids"]) == [r.workflow_run_id for r in refs]  # type: ignore[arg-type]
    tasks = named(got, "hatchet.start_step_run", **{"hatchet.step_name": "otel_child"})
    assert len(tasks) == 3
    assert {parent_of(t) for t in tasks} == {span_id(bulk)}

    from hatchet_celery.clients.events import BulkPushEventWithMetadata

    pushed = hatchet.event.bulk_push(
        [BulkPushEventWithMetadata(key="otel_test:unheard", payload={"i": i}) for i in range(2)]
    )
    push = one(spans(), "hatchet.bulk_push_event")
    assert (push.attributes or {})["hatchet.num_events"] == 2
    assert list((push.attributes or {})["hatchet.event_ids"]) == [e.event_id for e in pushed]  # type: ignore[arg-type]
    for event in pushed:
        assert "traceparent" in json.loads(event.additional_metadata or "{}")


def test_settings_exclude_attributes_and_split_bulk_spans(
    spans: Callable[[], list[ReadableSpan]],
) -> None:
    HatchetInstrumentor().uninstrument()
    settings = OpenTelemetryConfig(
        excluded_attributes=[OTelAttribute.ACTION_PAYLOAD],
        include_task_name_in_start_step_run_span_name=True,
        individual_run_spans_for_bulk_run=True,
    )
    HatchetInstrumentor(tracer_provider=provider, otel=settings).instrument()
    refs = otel_child.run_many_no_wait(
        [otel_child.create_bulk_run_item(Msg(message=str(i))) for i in range(2)]
    )
    assert [r.result() for r in refs] == [{"echo": "0"}, {"echo": "1"}]
    got = spans()
    bulk = one(got, "hatchet.run_workflows")
    for ref in refs:
        item = one(got, "hatchet.run_workflow", **{"hatchet.workflow_run_id": ref.workflow_run_id})
        assert parent_of(item) == span_id(bulk)
        (task,) = [
            s
            for s in got
            if s.name.startswith("hatchet.start_step_run.")
            and (s.attributes or {}).get("hatchet.workflow_run_id") == ref.workflow_run_id
        ]
        assert task.name == f"hatchet.start_step_run.{otel_child.name}:otel_child"
        assert parent_of(task) == span_id(item)
    hatchet_spans = [s for s in got if (s.attributes or {}).get("instrumentor") == "hatchet"]
    assert hatchet_spans and not any(
        "hatchet.payload" in (s.attributes or {}) for s in hatchet_spans
    )


def test_meter_provider_gets_task_durations_and_trigger_counts(
    spans: Callable[[], list[ReadableSpan]],
) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    HatchetInstrumentor().uninstrument()
    HatchetInstrumentor(
        tracer_provider=provider, meter_provider=MeterProvider(metric_readers=[reader])
    ).instrument()
    ref = otel_fails.run_no_wait()
    with pytest.raises(Exception, match="attempt 1 broke"):
        ref.result()
    assert otel_child.run(Msg(message="m")) == {"echo": "m"}

    data = reader.get_metrics_data()
    assert data is not None
    points: dict[str, list[Any]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points.setdefault(metric.name, []).extend(metric.data.data_points)
    durations = {
        (p.attributes["hatchet.step_name"], p.attributes["hatchet.outcome"]): p.count
        for p in points["hatchet.task_run.duration"]
    }
    assert durations[("otel_fails", "failed")] == 2  # both attempts
    assert durations[("otel_child", "completed")] == 1
    triggered = {
        p.attributes["hatchet.workflow_name"]: p.value
        for p in points["hatchet.workflow_runs.triggered"]
    }
    assert triggered[otel_fails.name] == 1 and triggered[otel_child.name] == 1


def test_scheduled_run_links_to_the_schedule_span(spans: Callable[[], list[ReadableSpan]]) -> None:
    scheduled = hatchet.scheduled.create(
        otel_child.name, datetime.now(UTC), {"message": "later"}, {"k": "v"}
    )
    schedule_span = one(spans(), "hatchet.schedule_workflow")
    assert (schedule_span.attributes or {})["hatchet.scheduled_id"] == scheduled.metadata.id
    assert "traceparent" in (scheduled.additional_metadata or {})

    def fired() -> str | None:
        return hatchet.scheduled.get(scheduled.metadata.id).workflow_run_id

    run_id = wait_until(fired, "the scheduled run")
    assert hatchet.runs.get_run_ref(run_id).result() == {"otel_child": {"echo": "later"}}
    got = spans()
    task = one(got, "hatchet.start_step_run", **{"hatchet.workflow_run_id": run_id})
    assert trace_id(task) == trace_id(schedule_span)


def test_uninstrumented_runtime_calls_the_no_op(spans: Callable[[], list[ReadableSpan]]) -> None:
    assert _hooks.TRACING is not _hooks.NO_TRACING
    HatchetInstrumentor().uninstrument()
    try:
        assert _hooks.TRACING is _hooks.NO_TRACING
        ref = otel_child.run_no_wait(Msg(message="quiet"))
        assert ref.result() == {"echo": "quiet"}
        (own,) = spans()  # the task's own span only, without the task's labels
        assert own.name == "child.work"
        assert not any(k.startswith("hatchet.") for k in own.attributes or {})
        metadata = hatchet.runs.get(ref.workflow_run_id).run.additional_metadata or {}
        assert "traceparent" not in metadata
    finally:
        HatchetInstrumentor().instrument()


def test_trace_crosses_processes_and_nests_celery_spans(
    spans: Callable[[], list[ReadableSpan]], tmp_path: Path
) -> None:
    """A subprocess worker (hatchet_celery and Celery instrumented, spans to a file) runs a
    parent that pushes an event and spawns a child: every span joins this process's trace."""
    from hatchet_celery.testing import WorkerProcess
    from tests.apps import otel_worker

    spans_file = tmp_path / "spans.jsonl"
    env = {"HATCHET_CELERY_TEST_OTEL_SPANS": str(spans_file)}
    name = f"otel-{uuid.uuid4().hex[:6]}"
    with WorkerProcess("tests.apps.otel_worker:hatchet", name=name, slots=4, env=env):
        ref = otel_worker.parent.run_no_wait(otel_worker.Msg(message="far"))
        out = ref.result()
        assert out["child"] == {"echo": "far"}
        (event_run,) = otel_worker.hatchet.event.get(out["event_id"]).triggered_runs or []
        otel_worker.hatchet.runs.get_run_ref(event_run.workflow_run_id).result()
    trigger = one(
        spans(), "hatchet.run_workflow", **{"hatchet.workflow_run_id": ref.workflow_run_id}
    )
    remote = [json.loads(line) for line in spans_file.read_text().splitlines()]
    by_id = {s["span_id"]: s for s in remote}

    def remote_one(name: str, **attrs: Any) -> dict[str, Any]:
        found = [
            s
            for s in remote
            if s["name"] == name and all(s["attributes"].get(k) == v for k, v in attrs.items())
        ]
        assert len(found) == 1, (name, attrs, [(s["name"], s["attributes"]) for s in remote])
        return found[0]

    parent_task = remote_one("hatchet.start_step_run", **{"hatchet.step_name": "otel_proc_parent"})
    assert parent_task["parent_id"] == f"{span_id(trigger):016x}"
    child_task = remote_one("hatchet.start_step_run", **{"hatchet.step_name": "otel_proc_child"})
    event_task = remote_one(
        "hatchet.start_step_run", **{"hatchet.workflow_run_id": event_run.workflow_run_id}
    )
    # child: spawn span → trigger → Celery publish → Celery run → task span → user span
    celery_run = by_id[child_task["parent_id"]]
    assert celery_run["name"].startswith("run/") and celery_run["kind"] == "CONSUMER"
    celery_publish = by_id[celery_run["parent_id"]]
    assert celery_publish["name"].startswith("apply_async/")
    child_trigger = by_id[celery_publish["parent_id"]]
    assert child_trigger["name"] == "hatchet.run_workflow"
    assert "hatchet.workflow_run_id" not in celery_publish["attributes"]  # not the parent's
    assert by_id[child_trigger["parent_id"]]["name"] == "spawn"
    assert by_id[by_id[child_trigger["parent_id"]]["parent_id"]] == parent_task
    assert by_id[remote_one("child.work")["parent_id"]] == child_task
    # event: push span in the parent task → the run it triggered → its task span
    push = remote_one("hatchet.push_event")
    assert by_id[push["parent_id"]]["name"] == "spawn"
    assert event_task["attributes"]["hatchet.triggering_event_external_id"] == out["event_id"]

    hatchet_spans = [s for s in remote if s["name"].startswith("hatchet.")]
    assert {s["trace_id"] for s in hatchet_spans} == {f"{trace_id(trigger):032x}"}
    assert all(s["status"] != "ERROR" for s in remote)


def test_durable_task_executions_stay_in_the_trace(
    spans: Callable[[], list[ReadableSpan]],
) -> None:
    ref = otel_durable.run_no_wait()
    assert ref.result() == {"child": {"echo": "after sleep"}}
    got = spans()
    trigger = one(got, "hatchet.run_workflow", **{"hatchet.workflow_run_id": ref.workflow_run_id})
    runs = named(got, "hatchet.start_step_run", **{"hatchet.workflow_run_id": ref.workflow_run_id})
    assert runs and {parent_of(r) for r in runs} == {span_id(trigger)}
    assert all(r.status.status_code != StatusCode.ERROR for r in runs)
    child_task = one(got, "hatchet.start_step_run", **{"hatchet.step_name": "otel_child"})
    assert trace_id(child_task) == trace_id(trigger)
    # every execution but the last suspended on the sleep (no error); the last returned
    outcomes = [(r.attributes or {}).get("hatchet.outcome") for r in runs]
    assert outcomes[-1] is None and set(outcomes[:-1]) <= {"Suspended"}


def test_import_without_opentelemetry_names_the_extra() -> None:
    code = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ImportError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
import hatchet_celery
from hatchet_celery.opentelemetry import OTelAttribute
assert OTelAttribute.STEP_RUN_ID.value == "step_run_id"
try:
    from hatchet_celery.opentelemetry import HatchetInstrumentor
except ImportError as exc:
    print("ImportError:", exc)
"""
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "ImportError:" in out.stdout and "hatchet-celery[otel]" in out.stdout
