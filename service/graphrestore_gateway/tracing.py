"""OpenTelemetry traces, on when OTEL_EXPORTER_OTLP_ENDPOINT is set: a caller's W3C
`traceparent` continues into the RPC's server span (the SDK's gRPC instrumentation), and
each Graph request is a child span carrying `client-request-id` and Graph's `request-id`.
Off, no span is made at all (the API's no-op tracer would still build and enter one per
Graph request)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import grpc
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind

TRACER = trace.get_tracer("graphrestore_gateway")
NO_SPAN = nullcontext(trace.INVALID_SPAN)


def start(otlp_endpoint: str) -> tuple[TracerProvider, grpc.aio.ServerInterceptor]:
    """Export spans over OTLP/HTTP to `otlp_endpoint`; the provider (to shut down, which
    flushes) and the server interceptor that opens each RPC's span."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "graphrestore-gateway"}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces"))
    )
    trace.set_tracer_provider(provider)
    interceptor: grpc.aio.ServerInterceptor = aio_server_interceptor(  # type: ignore[no-untyped-call]
        tracer_provider=provider
    )
    return provider, interceptor


def graph_span(route: str, method: str, client_request_id: str) -> AbstractContextManager[Span]:
    """The span of one Graph request, child of the RPC's; a shared no-op while tracing is
    off (no provider was set by `start`)."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return NO_SPAN
    attributes = {"http.request.method": method, "graph.client_request_id": client_request_id}
    return TRACER.start_as_current_span(
        f"graph {route}", kind=SpanKind.CLIENT, attributes=attributes
    )
