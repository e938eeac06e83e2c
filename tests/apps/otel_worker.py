"""Workflows of the cross-process OpenTelemetry test, served by a subprocess worker.

With ``HATCHET_CELERY_TEST_OTEL_SPANS`` set (the worker's environment), the module
instruments hatchet_celery and Celery (opentelemetry-instrumentation-celery) at import and
writes each finished span as one JSON line to that file; the test reads it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from pydantic import BaseModel

from hatchet_celery import ClientConfig, Context, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="otel_proc"))
EVENT_KEY = "otel_proc:event"


class JsonLinesExporter(SpanExporter):
    """Append each span to a file as a JSON line (ids as hex, as W3C writes them)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for s in spans:
            assert s.context is not None
            lines.append(
                json.dumps(
                    {
                        "name": s.name,
                        "trace_id": f"{s.context.trace_id:032x}",
                        "span_id": f"{s.context.span_id:016x}",
                        "parent_id": f"{s.parent.span_id:016x}" if s.parent else None,
                        "kind": s.kind.name,
                        "status": s.status.status_code.name,
                        "attributes": {k: v for k, v in (s.attributes or {}).items()},
                    },
                    default=list,
                )
            )
        with self.lock, open(self.path, "a") as f:
            f.write("".join(line + "\n" for line in lines))
        return SpanExportResult.SUCCESS


_spans_file = os.environ.get("HATCHET_CELERY_TEST_OTEL_SPANS")
tracer: Any = trace.get_tracer(__name__)
if _spans_file:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor

    from hatchet_celery.opentelemetry.instrumentor import HatchetInstrumentor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(_spans_file)))
    HatchetInstrumentor(tracer_provider=provider).instrument()
    CeleryInstrumentor().instrument(tracer_provider=provider)
    tracer = provider.get_tracer(__name__)


class Msg(BaseModel):
    message: str = "hi"


@hatchet.task(name="otel_proc_child", input_validator=Msg)
def child(input: Msg, ctx: Context) -> dict[str, str]:
    with tracer.start_as_current_span("child.work"):
        return {"echo": input.message}


@hatchet.task(name="otel_proc_on_event", on_events=[EVENT_KEY], input_validator=Msg)
def on_event(input: Msg, ctx: Context) -> dict[str, str]:
    return {"event": input.message}


@hatchet.task(name="otel_proc_parent", input_validator=Msg)
def parent(input: Msg, ctx: Context) -> dict[str, Any]:
    with tracer.start_as_current_span("spawn"):
        event = hatchet.event.push(EVENT_KEY, {"message": "pushed"})
        result = child.run(Msg(message=input.message))
    return {"child": result, "event_id": event.event_id}
