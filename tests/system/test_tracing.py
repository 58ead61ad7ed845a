"""A caller's trace continues through the gateway: its W3C traceparent becomes the parent
of the gateway's server span, and each Graph request is a child span carrying the
client-request-id the gateway sent and the request-id Graph answered."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import create_request, wait_for
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from processes import CREATE_PATH, Emulator, own_gateway


class Collector(ThreadingHTTPServer):
    """An OTLP/HTTP receiver: keeps every span it is sent."""

    spans: list[Span]


class _Receive(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.server.spans.extend(scope.spans)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector(("127.0.0.1", 0), _Receive)
    server.spans = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def attributes(span: Span) -> dict[str, object]:
    return {a.key: a.value.string_value or a.value.int_value for a in span.attributes}


def test_a_callers_trace_continues_to_graph(emulator: Emulator, collector: Collector) -> None:
    trace_id, caller_span_id = secrets.token_hex(16), secrets.token_hex(8)
    env = {
        **emulator.gateway_env(),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    with own_gateway(env) as (_, stub):
        session = stub.CreateRestoreSession(
            create_request("rp-traced"),
            timeout=10,
            metadata=[("traceparent", f"00-{trace_id}-{caller_span_id}-01")],
        )

        def ours() -> list[Span]:
            return [s for s in collector.spans if s.trace_id.hex() == trace_id]

        assert wait_for(lambda: len(ours()) >= 2, within_s=10)
    [server_span] = [s for s in ours() if s.kind == Span.SPAN_KIND_SERVER]
    assert server_span.parent_span_id.hex() == caller_span_id
    assert "CreateRestoreSession" in server_span.name
    [graph_span] = [s for s in ours() if s.name.startswith("graph POST")]
    assert graph_span.parent_span_id == server_span.span_id
    assert graph_span.kind == Span.SPAN_KIND_CLIENT
    sent = [
        r
        for r in emulator.journal()
        if r["method"] == "POST" and r["path"] == CREATE_PATH and "rp-traced" in r["body"]
    ]
    [create] = sent
    traced = attributes(graph_span)
    assert traced["graph.client_request_id"] == create["client_request_id"]
    assert traced["http.response.status_code"] == 201
    assert traced["graph.request_id"]
    assert session.id
