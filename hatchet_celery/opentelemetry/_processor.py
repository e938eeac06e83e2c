"""A span processor (opentelemetry-sdk) that labels the spans a task starts.

Spans started inside a task run (``tracer.start_as_current_span("db.query")`` in the task
function) get the task span's ``hatchet.*`` attributes they do not set themselves, so they
can be found by ``hatchet.step_run_id`` or ``hatchet.workflow_run_id``. Spans of this
package (``instrumentor = hatchet``) keep their own.
"""

from __future__ import annotations

from opentelemetry.context import Context as OTelContext
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from hatchet_celery.opentelemetry._tracing import INSTRUMENTOR, TASK_SPAN_ATTRIBUTES


class TaskAttributesSpanProcessor(SpanProcessor):
    def on_start(self, span: Span, parent_context: OTelContext | None = None) -> None:
        attributes = TASK_SPAN_ATTRIBUTES.get()
        if not attributes or not span.is_recording():
            return
        existing = span.attributes or {}
        if existing.get("instrumentor") == INSTRUMENTOR:
            return
        for key, value in attributes.items():
            if key not in existing and key != "instrumentor":
                span.set_attribute(key, value)

    def on_end(self, span: ReadableSpan) -> None:
        return None


__all__ = ["TaskAttributesSpanProcessor"]
