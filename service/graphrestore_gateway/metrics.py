"""Prometheus metrics: what an operator alerts on. gRPC series use the standard
grpc_server_* names (go-grpc-prometheus); the gateway's own are graphrestore_*. Served
on GRAPHRESTORE_METRICS_LISTEN only (off when unset)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

RPC_STARTED = Counter(
    "grpc_server_started_total",
    "RPCs started on the server.",
    ["grpc_service", "grpc_method", "grpc_type"],
    registry=REGISTRY,
)
RPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by status code and caller.",
    ["grpc_service", "grpc_method", "grpc_type", "grpc_code", "caller"],
    registry=REGISTRY,
)
RPC_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time to answer an RPC, until its status.",
    ["grpc_service", "grpc_method", "grpc_type"],
    registry=REGISTRY,
)
GRAPH_REQUESTS = Counter(
    "graphrestore_graph_requests_total",
    "Requests sent to Microsoft Graph, by route and answer (status, or the failure).",
    ["route", "status"],
    registry=REGISTRY,
)
GRAPH_SECONDS = Histogram(
    "graphrestore_graph_request_seconds",
    "Time for one Graph request to be answered.",
    ["route"],
    registry=REGISTRY,
)
BUDGET_WAIT_SECONDS = Histogram(
    "graphrestore_budget_wait_seconds",
    "Time a Graph request waited for the tenant's budget.",
    registry=REGISTRY,
)
BUDGET_REFUSALS = Counter(
    "graphrestore_budget_refusals_total",
    "Graph requests refused because the budget had no room before the deadline.",
    registry=REGISTRY,
)
GRAPH_THROTTLED_SECONDS = Counter(
    "graphrestore_graph_throttled_seconds_total",
    "Seconds Graph requests of this replica waited because Graph throttled the tenant "
    "(a 429's Retry-After pauses every caller's requests, on every replica sharing the "
    "budget), summed over the requests that waited.",
    registry=REGISTRY,
)
GRAPH_PAUSE_SECONDS = Gauge(
    "graphrestore_graph_pause_seconds",
    "Seconds left of the pause a 429 ordered (this replica's view: a pause another "
    "replica ordered shows once a request here meets it).",
    registry=REGISTRY,
)
BUDGET_LEVEL = Gauge(
    "graphrestore_budget_available_requests",
    "Graph requests the tenant's budget would let through at once now (this replica's view).",
    registry=REGISTRY,
)
TOKEN_REQUESTS = Counter(
    "graphrestore_token_requests_total",
    "Access token requests to Entra ID, by outcome (ok or the failure's code).",
    ["outcome"],
    registry=REGISTRY,
)
REQUEST_RECORDS = Counter(
    "graphrestore_request_records_total",
    "Mutating calls met by a request record: answers replayed, interrupted attempts reconciled.",
    ["event"],
    registry=REGISTRY,
)
WATCH_STREAMS = Gauge(
    "graphrestore_watch_streams",
    "Open WatchRestoreSession streams.",
    registry=REGISTRY,
)
POLICY_DENIALS = Counter(
    "graphrestore_policy_denials_total",
    "Calls the gateway refused on its policy or identity rules, by reason.",
    ["reason"],
    registry=REGISTRY,
)
POLICY_RELOAD_FAILURES = Counter(
    "graphrestore_policy_reload_failures_total",
    "Edits of the policy file refused on reload (the last good policy stays in force).",
    registry=REGISTRY,
)
