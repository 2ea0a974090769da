"""W3C trace context: carried from an HTTP command through stored events to Kafka headers,
and from a consumed message to every effect it causes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

_tracer = trace.get_tracer("heze")


def configure_tracing(service_name: str) -> None:
    """Install a real tracer provider so spans get ids; exporters are configured by OTEL_* env."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider(resource=Resource({"service.name": service_name})))


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def continue_trace(
    traceparent: str | None, span_name: str, kind: trace.SpanKind
) -> Iterator[trace.Span]:
    """A span that continues the caller's trace when a traceparent is given, else starts one."""
    parent = propagate.extract({"traceparent": traceparent}) if traceparent else None
    with _tracer.start_as_current_span(span_name, context=parent, kind=kind) as span:
        yield span
