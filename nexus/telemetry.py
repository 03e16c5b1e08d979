"""OpenTelemetry set-up. Temporal's TracingInterceptor carries the trace from an API request
through the workflow into its activities, so one trace shows the whole chain."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from nexus.settings import TelemetrySettings


def configure_tracing(settings: TelemetrySettings) -> None:
    """Install the process-wide tracer provider once; later calls keep the first one.
    Without an exporter OpenTelemetry's no-op tracer stays in place."""
    if not settings.tracing or isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    if settings.exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
