"""The OpenTelemetry implementation of the runtime's tracing hooks (``_hooks.Tracing``).

Spans (Hatchet's names):

- ``hatchet.run_workflow`` (one run) / ``hatchet.run_workflows`` (a bulk trigger, or an
  event that starts several runs of a workflow): PRODUCER, around the creation of the runs.
- ``hatchet.push_event`` / ``hatchet.bulk_push_event``: PRODUCER, around an event push,
  which stores the event and triggers the workflows listening (their trigger spans nest).
- ``hatchet.schedule_workflow``: PRODUCER, around the creation of a scheduled run.
- ``hatchet.start_step_run``: CONSUMER, around one execution of a task run on a worker.

Each trigger, push and schedule writes its span's W3C ``traceparent`` into the metadata of
what it creates; the task span of a run takes the run's ``traceparent`` as its parent. The
metadata of a child run (spawned by a task) and of an event-triggered run carry the
``traceparent`` of the span that created them, so one trace goes trigger → tasks →
children → event-triggered runs, across processes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from opentelemetry import trace
from opentelemetry.context import Context as OTelContext
from opentelemetry.metrics import Meter, NoOpMeter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from hatchet_celery.context import current_context
from hatchet_celery.opentelemetry.attributes import OpenTelemetryConfig, OTelAttribute

if TYPE_CHECKING:
    from hatchet_celery._runtime.waits.events import EventIn
    from hatchet_celery.clients.admin import WorkflowRunTriggerConfig
    from hatchet_celery.context import Context

T = TypeVar("T")
AttributeValue = str | int | bool | Sequence[str]

TRACEPARENT = "traceparent"
INSTRUMENTOR = "hatchet"
_PROPAGATOR = TraceContextTextMapPropagator()

# Metric outcome of an execution that ended on a BaseException (not a failure of the task):
# a durable task suspending on a wait; an async task cancelled or past its timeout.
_OUTCOMES = {"Suspended": "suspended", "CancelledError": "cancelled"}

# The attributes of the task span being executed: the span processor copies them onto every
# span started inside the task (``TaskAttributesSpanProcessor`` in ``instrumentor.py``).
TASK_SPAN_ATTRIBUTES: ContextVar[dict[str, AttributeValue] | None] = ContextVar(
    "hatchet_celery_task_span_attributes", default=None
)


def traceparent_of(span: Span) -> str | None:
    """The W3C ``traceparent`` naming ``span`` (None for a span that is not recording)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get(TRACEPARENT)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_from(metadata: Mapping[str, Any] | None) -> OTelContext | None:
    """The trace context a ``traceparent`` in ``metadata`` names, or None."""
    value = (metadata or {}).get(TRACEPARENT)
    if not value or not isinstance(value, str):
        return None
    return _PROPAGATOR.extract({TRACEPARENT: value})


def json_text(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


@dataclass(eq=False)
class _Traced(Generic[T]):
    """The items a traced trigger or push creates, and the span that gets their ids."""

    items: list[T]
    span: Span
    id_attribute: str
    many: bool
    item_spans: Sequence[Span] = ()

    def created(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        for item_span, created_id in zip(self.item_spans, ids, strict=False):
            item_span.set_attribute(self.id_attribute, str(created_id))
        if self.many:
            self.span.set_attribute(self.id_attribute + "s", [str(i) for i in ids])
        else:
            self.span.set_attribute(self.id_attribute, str(ids[0]))


class OTelTracing:
    """Spans through ``tracer``; what ``HatchetInstrumentor.instrument()`` installs."""

    def __init__(
        self,
        tracer: Tracer,
        config: OpenTelemetryConfig,
        tenant_id: str,
        meter: Meter | None = None,
    ) -> None:
        self.tracer = tracer
        self.config = config
        self.tenant_id = tenant_id
        self._excluded = {a.value for a in config.excluded_attributes}
        meter = meter or NoOpMeter("hatchet_celery.opentelemetry")
        # Labelled by workflow, task and outcome only (no ids: bounded cardinality).
        self.task_duration = meter.create_histogram(
            "hatchet.task_run.duration",
            unit="s",
            description="Time one execution of a task run took on the worker",
        )
        self.runs_triggered = meter.create_counter(
            "hatchet.workflow_runs.triggered",
            unit="{run}",
            description="Workflow runs requested (run, run_many, children, events, schedules)",
        )

    # --- attributes -----------------------------------------------------------------------
    def attributes(self, values: Mapping[OTelAttribute, Any]) -> dict[str, AttributeValue]:
        """``hatchet.<name>`` for each value that says something and is not excluded."""
        out: dict[str, AttributeValue] = {"instrumentor": INSTRUMENTOR}
        for attr, value in values.items():
            if value is None or value == "" or value in ("{}", "[]") or value is False:
                continue
            if attr.value in self._excluded:
                continue
            if not isinstance(value, str | int | bool):
                value = str(value)
            out[f"hatchet.{attr.value}"] = value
        return out

    def payload_text(self, value: Any) -> str | None:
        """An input or event payload as JSON, unless excluded (then not even serialised)."""
        return None if OTelAttribute.ACTION_PAYLOAD.value in self._excluded else json_text(value)

    def _run_attributes(self, workflow: str, item: WorkflowRunTriggerConfig) -> dict[str, Any]:
        opts = item.options
        ctx = current_context.get()
        return self.attributes(
            {
                OTelAttribute.WORKFLOW_NAME: workflow,
                OTelAttribute.ACTION_PAYLOAD: item.input,
                OTelAttribute.PARENT_ID: opts.parent_id or (ctx and ctx.workflow_run_id),
                OTelAttribute.PARENT_STEP_RUN_ID: (
                    opts.parent_step_run_id or (ctx and ctx.task_run_id)
                ),
                OTelAttribute.CHILD_INDEX: opts.child_index,
                OTelAttribute.CHILD_KEY: opts.child_key,
                OTelAttribute.NAMESPACE: opts.namespace,
                OTelAttribute.ADDITIONAL_METADATA: json_text(opts.additional_metadata or {}),
                OTelAttribute.PRIORITY: opts.priority,
                OTelAttribute.DESIRED_WORKER_ID: opts.desired_worker_id,
                OTelAttribute.STICKY: opts.sticky,
                OTelAttribute.KEY: opts.key or item.key,
            }
        )

    def task_attributes(self, ctx: Context) -> dict[str, AttributeValue]:
        return self.attributes(
            {
                OTelAttribute.TENANT_ID: self.tenant_id,
                OTelAttribute.WORKER_ID: ctx.worker_id,
                OTelAttribute.WORKFLOW_RUN_ID: ctx.workflow_run_id,
                OTelAttribute.STEP_RUN_ID: ctx.task_run_id,
                OTelAttribute.RETRY_COUNT: ctx.retry_count,
                OTelAttribute.PARENT_WORKFLOW_RUN_ID: ctx.parent_workflow_run_id,
                OTelAttribute.CHILD_WORKFLOW_INDEX: ctx.child_index,
                OTelAttribute.CHILD_WORKFLOW_KEY: ctx.child_key,
                OTelAttribute.ACTION_PAYLOAD: self.payload_text(ctx.workflow_input),
                OTelAttribute.WORKFLOW_NAME: ctx.workflow_name,
                OTelAttribute.ACTION_NAME: f"{ctx.workflow_name}:{ctx.task_name}",
                OTelAttribute.STEP_NAME: ctx.task_name,
                OTelAttribute.WORKFLOW_ID: ctx.workflow_id,
                OTelAttribute.TRIGGERING_EVENT_EXTERNAL_ID: ctx.triggering_event_id,
                OTelAttribute.TRIGGERING_EVENT_KEY: ctx.triggering_event_key,
            }
        )

    # --- hooks ----------------------------------------------------------------------------
    @contextmanager
    def trigger(
        self, workflow: str, items: list[WorkflowRunTriggerConfig], bulk: bool
    ) -> Iterator[_Traced[WorkflowRunTriggerConfig]]:
        many = bulk or len(items) != 1
        if many:
            name = "hatchet.run_workflows"
            attributes = self.attributes({})
            attributes["hatchet.num_workflows"] = len(items)
            attributes["hatchet.unique_workflow_names"] = json_text([workflow])
        else:
            name = "hatchet.run_workflow"
            attributes = self._run_attributes(workflow, items[0])
        with (
            _outside_task(),
            self.tracer.start_as_current_span(
                name, context=self._parent_of(items), kind=SpanKind.PRODUCER, attributes=attributes
            ) as span,
        ):
            if many and self.config.individual_run_spans_for_bulk_run:
                with self._item_spans(workflow, items) as (traced_items, item_spans):
                    yield _Traced(traced_items, span, "hatchet.workflow_run_id", many, item_spans)
                self.runs_triggered.add(len(items), {"hatchet.workflow_name": workflow})
                return
            traceparent = traceparent_of(span)
            yield _Traced(
                [_with_traceparent(i, traceparent) for i in items],
                span,
                "hatchet.workflow_run_id",
                many,
            )
        self.runs_triggered.add(len(items), {"hatchet.workflow_name": workflow})

    @contextmanager
    def _item_spans(
        self, workflow: str, items: list[WorkflowRunTriggerConfig]
    ) -> Iterator[tuple[list[WorkflowRunTriggerConfig], list[Span]]]:
        spans = [
            self.tracer.start_span(
                "hatchet.run_workflow",
                kind=SpanKind.PRODUCER,
                attributes=self._run_attributes(workflow, item),
            )
            for item in items
        ]
        try:
            yield (
                [
                    _with_traceparent(item, traceparent_of(s))
                    for item, s in zip(items, spans, strict=True)
                ],
                spans,
            )
        finally:
            for s in spans:
                s.end()

    @staticmethod
    def _parent_of(items: list[WorkflowRunTriggerConfig]) -> OTelContext | None:
        """The current span; without one (a scheduled run fired by a worker's pump, an
        event's runs re-triggered by recovery), the ``traceparent`` the items share."""
        if trace.get_current_span().get_span_context().is_valid:
            return None
        found = {(i.options.additional_metadata or {}).get(TRACEPARENT) for i in items}
        if len(found) != 1:
            return None
        return context_from({TRACEPARENT: found.pop()})

    @contextmanager
    def task_run(self, ctx: Context) -> Iterator[Span]:
        attributes = self.task_attributes(ctx)
        name = "hatchet.start_step_run"
        if self.config.include_task_name_in_start_step_run_span_name:
            name += f".{ctx.workflow_name}:{ctx.task_name}"
        token = TASK_SPAN_ATTRIBUTES.set(attributes)
        started = time.perf_counter()
        outcome = "completed"
        try:
            with self.tracer.start_as_current_span(
                name,
                context=_task_parent(ctx.additional_metadata),
                kind=SpanKind.CONSUMER,
                attributes=attributes,
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                try:
                    yield span
                except Exception as exc:
                    outcome = "failed"
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
                    raise
                except BaseException as exc:
                    # A durable task that suspends on a wait ends this execution: not an error.
                    outcome = _OUTCOMES.get(type(exc).__name__, "interrupted")
                    span.set_attribute("hatchet.outcome", type(exc).__name__)
                    raise
        finally:
            TASK_SPAN_ATTRIBUTES.reset(token)
            self.task_duration.record(
                time.perf_counter() - started,
                {
                    "hatchet.workflow_name": ctx.workflow_name,
                    "hatchet.step_name": ctx.task_name,
                    "hatchet.outcome": outcome,
                },
            )

    @contextmanager
    def push_events(self, events: list[EventIn], bulk: bool) -> Iterator[_Traced[EventIn]]:
        if bulk:
            name = "hatchet.bulk_push_event"
            attributes = self.attributes({})
            attributes["hatchet.num_events"] = len(events)
            attributes["hatchet.unique_event_keys"] = json_text(sorted({e.key for e in events}))
        else:
            name = "hatchet.push_event"
            event = events[0]
            attributes = self.attributes(
                {
                    OTelAttribute.EVENT_KEY: event.key,
                    OTelAttribute.ACTION_PAYLOAD: self.payload_text(event.payload),
                    OTelAttribute.ADDITIONAL_METADATA: json_text(event.metadata),
                    OTelAttribute.PRIORITY: event.priority,
                    OTelAttribute.FILTER_SCOPE: event.scope,
                }
            )
        with (
            _outside_task(),
            self.tracer.start_as_current_span(
                name, kind=SpanKind.PRODUCER, attributes=attributes
            ) as span,
        ):
            traceparent = traceparent_of(span)
            traced = [
                replace(e, metadata={**e.metadata, TRACEPARENT: traceparent}) if traceparent else e
                for e in events
            ]
            yield _Traced(traced, span, "hatchet.event_id", bulk)


@contextmanager
def _outside_task() -> Iterator[None]:
    """Spans under a trigger or a push (Celery's publish span, say) are about the runs being
    created, not the task that creates them: they do not get the task's labels."""
    token = TASK_SPAN_ATTRIBUTES.set(None)
    try:
        yield
    finally:
        TASK_SPAN_ATTRIBUTES.reset(token)


def _task_parent(metadata: Mapping[str, Any]) -> OTelContext | None:
    """The parent of a task span: the span that created the run (its ``traceparent``), or
    the current span when it belongs to that trace already (Celery's ``run/<task>`` span
    when opentelemetry-instrumentation-celery instruments the worker and the publisher)."""
    parent = context_from(metadata)
    if parent is None:
        return None
    current = trace.get_current_span().get_span_context()
    wanted = trace.get_current_span(parent).get_span_context()
    if current.is_valid and current.trace_id == wanted.trace_id:
        return None
    return parent


def _with_traceparent(
    item: WorkflowRunTriggerConfig, traceparent: str | None
) -> WorkflowRunTriggerConfig:
    if not traceparent:
        return item
    metadata = {**(item.options.additional_metadata or {}), TRACEPARENT: traceparent}
    options = item.options.model_copy(update={"additional_metadata": metadata})
    return item.model_copy(update={"options": options})


__all__ = [
    "TASK_SPAN_ATTRIBUTES",
    "TRACEPARENT",
    "OTelTracing",
    "context_from",
    "current_traceparent",
    "json_text",
    "traceparent_of",
]
