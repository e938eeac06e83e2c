"""``HatchetInstrumentor``: OpenTelemetry spans for triggers, event pushes and task runs.

Needs the ``otel`` extra (``pip install 'hatchet-celery[otel]'``). Usage, as in Hatchet::

    from hatchet_celery.opentelemetry.instrumentor import HatchetInstrumentor

    HatchetInstrumentor(tracer_provider=provider).instrument()

in the processes that trigger runs and in the workers (the spans of a trace are exported
by the process that made them). See ``docs/opentelemetry.md``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import weakref
from collections.abc import Collection, Mapping
from typing import Any

try:
    from opentelemetry import trace
    from opentelemetry.context import Context as OTelContext
    from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
        BaseInstrumentor,
    )
    from opentelemetry.metrics import MeterProvider, NoOpMeterProvider, get_meter
    from opentelemetry.trace import SpanKind, TracerProvider
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        "hatchet_celery.opentelemetry needs the `otel` extra: "
        "pip install 'hatchet-celery[otel]' (opentelemetry-api and "
        f"opentelemetry-instrumentation); missing: {exc.name or exc}"
    ) from exc

from hatchet_celery.config import ClientConfig
from hatchet_celery.opentelemetry import _hooks
from hatchet_celery.opentelemetry._tracing import (
    TRACEPARENT,
    OTelTracing,
    context_from,
    current_traceparent,
    json_text,
    traceparent_of,
)
from hatchet_celery.opentelemetry.attributes import OpenTelemetryConfig, OTelAttribute

OTEL_TRACEPARENT_KEY = TRACEPARENT
InstrumentKwargs = TracerProvider | MeterProvider | None


def _version() -> str:
    try:
        return importlib.metadata.version("hatchet-celery")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def create_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span (None without one).

    Not needed to link runs: the instrumentor writes it into the metadata of every run and
    event it traces. Kept for code written against Hatchet's older SDKs.
    """
    return current_traceparent()


def parse_carrier_from_metadata(metadata: Mapping[str, Any] | None) -> OTelContext | None:
    """The trace context named by the ``traceparent`` in ``metadata`` (None without one)."""
    return context_from(metadata)


def inject_traceparent_into_metadata(
    metadata: dict[str, Any], traceparent: str | None = None
) -> dict[str, Any]:
    """``metadata`` plus ``traceparent`` (default: the current span's), as a new dict."""
    value = traceparent or current_traceparent()
    return {**metadata, TRACEPARENT: value} if value else metadata


_with_processor: weakref.WeakSet[Any] = weakref.WeakSet()


def _add_task_attributes_processor(provider: Any) -> None:
    """Copy the task span's ``hatchet.*`` attributes onto the spans a task starts (as
    Hatchet's span processor does), on SDK tracer providers, once per provider."""
    try:
        from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider

        from hatchet_celery.opentelemetry._processor import TaskAttributesSpanProcessor
    except ImportError:  # the API alone: spans inside tasks keep their own attributes
        return
    if isinstance(provider, SDKTracerProvider) and provider not in _with_processor:
        provider.add_span_processor(TaskAttributesSpanProcessor())
        _with_processor.add(provider)


class HatchetInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Hatchet's OpenTelemetry instrumentor, for hatchet_celery.

    :param tracer_provider: where the spans go; default the global tracer provider (looked
        up when a span starts, so one set after ``instrument()`` counts too).
    :param meter_provider: where the metrics go (default: none): the histogram
        ``hatchet.task_run.duration`` (seconds, by workflow, task and outcome) and the counter
        ``hatchet.workflow_runs.triggered`` (by workflow).
    :param config: the client configuration: its tenant id and namespace label the spans;
        ``config.otel`` (when the config has one) or ``otel`` the tracing settings.
    :param enable_hatchet_otel_collector: accepted for Hatchet compatibility; there is no
        Hatchet engine to send spans to, so spans go to ``tracer_provider`` only.
    :param schedule_delay_millis, max_export_batch_size, max_queue_size: accepted for
        Hatchet compatibility (they size the exporter to Hatchet's engine).
    :param otel: the tracing settings (``OpenTelemetryConfig``), an addition to Hatchet's
        signature; default ``config.otel``, else the environment.

    Like every OpenTelemetry instrumentor it is a singleton: ``HatchetInstrumentor()`` is
    the same object each time, and ``instrument()`` while instrumented does nothing.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        config: ClientConfig | None = None,
        enable_hatchet_otel_collector: bool = True,
        schedule_delay_millis: int | None = None,
        max_export_batch_size: int | None = None,
        max_queue_size: int | None = None,
        *,
        otel: OpenTelemetryConfig | None = None,
    ) -> None:
        self.config = config or ClientConfig()
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider or NoOpMeterProvider()
        self.enable_hatchet_otel_collector = enable_hatchet_otel_collector
        self.otel_config = otel or getattr(self.config, "otel", None) or OpenTelemetryConfig()
        super().__init__()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    def _instrument(self, **kwargs: InstrumentKwargs) -> None:
        provider = kwargs.get("tracer_provider") or self.tracer_provider
        meter_provider = kwargs.get("meter_provider") or self.meter_provider
        if provider is not None:
            self.tracer_provider = provider  # type: ignore[assignment]
        _add_task_attributes_processor(provider or trace.get_tracer_provider())
        self._tracer = trace.get_tracer(
            "hatchet_celery.opentelemetry",
            _version(),
            provider,  # type: ignore[arg-type]
        )
        self._meter = get_meter(
            "hatchet_celery.opentelemetry",
            _version(),
            meter_provider,  # type: ignore[arg-type]
        )
        self._tracing = OTelTracing(
            self._tracer, self.otel_config, self._tenant_id(), meter=self._meter
        )
        _hooks.install(self._tracing)
        self._wrap_schedule_create()

    def _uninstrument(self, **kwargs: InstrumentKwargs) -> None:
        _hooks.install(None)
        self._unwrap_schedule_create()

    def _tenant_id(self) -> str:
        if self.config.tenant_id:
            return self.config.tenant_id
        from hatchet_celery._runtime.timing.crons import tenant_id

        return tenant_id(self.config.namespace)

    # --- scheduled runs ---------------------------------------------------------------------
    # ``ScheduledClient.create`` (which ``Workflow.schedule`` and ``hatchet.scheduled.create``
    # call) is wrapped, and its ``aio_`` twin rebuilt on the wrapper, while instrumented.
    def _wrap_schedule_create(self) -> None:
        from hatchet_celery.features._aio import aio_twin
        from hatchet_celery.features.scheduled import ScheduledClient

        original = ScheduledClient.__dict__["create"]
        if getattr(original, "_hatchet_celery_traced", False):
            return
        tracing = self._tracing

        signature = inspect.signature(original)

        @functools.wraps(original)
        def create(*args: Any, **kwargs: Any) -> Any:
            call = signature.bind(*args, **kwargs)  # the parameters as ScheduledClient names them
            call.apply_defaults()
            given = call.arguments
            metadata = dict(given["additional_metadata"] or {})
            attributes = tracing.attributes(
                {
                    OTelAttribute.WORKFLOW_NAME: given["workflow_name"],
                    OTelAttribute.RUN_AT_TIMESTAMPS: json_text([given["trigger_at"].isoformat()]),
                    OTelAttribute.ACTION_PAYLOAD: tracing.payload_text(given["input"]),
                    OTelAttribute.ADDITIONAL_METADATA: json_text(metadata),
                    OTelAttribute.PRIORITY: given["priority"],
                }
            )
            with tracing.tracer.start_as_current_span(
                "hatchet.schedule_workflow", kind=SpanKind.PRODUCER, attributes=attributes
            ) as span:
                traceparent = traceparent_of(span)
                if traceparent:
                    metadata[TRACEPARENT] = traceparent
                given["additional_metadata"] = metadata
                row = original(*call.args, **call.kwargs)
                span.set_attribute("hatchet.scheduled_id", str(row.metadata.id))
                return row

        create._hatchet_celery_traced = True  # type: ignore[attr-defined]
        create._hatchet_celery_original = original  # type: ignore[attr-defined]
        ScheduledClient.create = create  # type: ignore[method-assign]
        ScheduledClient.aio_create = aio_twin(create)

    @staticmethod
    def _unwrap_schedule_create() -> None:
        from hatchet_celery.features._aio import aio_twin
        from hatchet_celery.features.scheduled import ScheduledClient

        original = getattr(ScheduledClient.__dict__["create"], "_hatchet_celery_original", None)
        if original is not None:
            ScheduledClient.create = original  # type: ignore[method-assign]
            ScheduledClient.aio_create = aio_twin(original)


__all__ = [
    "OTEL_TRACEPARENT_KEY",
    "HatchetInstrumentor",
    "OTelAttribute",
    "OpenTelemetryConfig",
    "create_traceparent",
    "inject_traceparent_into_metadata",
    "parse_carrier_from_metadata",
]
