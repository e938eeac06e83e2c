"""OpenTelemetry for hatchet_celery (the ``otel`` extra), as ``hatchet_sdk.opentelemetry``.

``from hatchet_celery.opentelemetry.instrumentor import HatchetInstrumentor`` (Hatchet's
path), or from this package. Importing this package needs nothing beyond the core: the
names below load ``instrumentor.py`` (and opentelemetry) on first use, and raise an
``ImportError`` naming the extra when it is not installed. The runtime reaches tracing only
through ``_hooks.TRACING``, which is a no-op until ``HatchetInstrumentor.instrument()``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hatchet_celery.opentelemetry.attributes import OpenTelemetryConfig as OpenTelemetryConfig
from hatchet_celery.opentelemetry.attributes import OTelAttribute as OTelAttribute

if TYPE_CHECKING:  # the names of _LAZY, as a type checker sees them
    from hatchet_celery.opentelemetry.instrumentor import (
        OTEL_TRACEPARENT_KEY as OTEL_TRACEPARENT_KEY,
    )
    from hatchet_celery.opentelemetry.instrumentor import HatchetInstrumentor as HatchetInstrumentor
    from hatchet_celery.opentelemetry.instrumentor import create_traceparent as create_traceparent
    from hatchet_celery.opentelemetry.instrumentor import (
        inject_traceparent_into_metadata as inject_traceparent_into_metadata,
    )
    from hatchet_celery.opentelemetry.instrumentor import (
        parse_carrier_from_metadata as parse_carrier_from_metadata,
    )

_LAZY = (
    "OTEL_TRACEPARENT_KEY",
    "HatchetInstrumentor",
    "create_traceparent",
    "inject_traceparent_into_metadata",
    "parse_carrier_from_metadata",
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module("hatchet_celery.opentelemetry.instrumentor")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["OTelAttribute", "OpenTelemetryConfig", *_LAZY]
