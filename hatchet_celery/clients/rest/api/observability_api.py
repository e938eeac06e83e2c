"""``ObservabilityApi``: Hatchet's trace endpoint, which this backend does not serve.

Hatchet's engine collects the spans its SDK exports and serves a run's trace
(``v1_observability_get_trace``). hatchet_celery has no collector: ``HatchetInstrumentor``
hands every span to the application's ``TracerProvider``, and traces are read in the
backend that provider exports to (Jaeger, Tempo, HyperDX, Langfuse...). The class exists
so that code written against Hatchet imports; calling it says so.
"""

from __future__ import annotations

from typing import Any

from hatchet_celery.clients.rest.models.otel_span_list import OtelSpanList


class ObservabilityApi:
    def __init__(self, api_client: Any = None) -> None:
        self.api_client = api_client

    def v1_observability_get_trace(
        self,
        tenant: str,
        run_external_id: str,
        offset: int | None = None,
        limit: int | None = None,
        **_: Any,
    ) -> OtelSpanList:
        """Not served here: read traces in your OpenTelemetry backend."""
        raise NotImplementedError(
            f"no trace store for run {run_external_id!r}: hatchet_celery has no span "
            "collector; HatchetInstrumentor exports spans through your TracerProvider "
            "(see docs/opentelemetry.md)"
        )


__all__ = ["ObservabilityApi"]
