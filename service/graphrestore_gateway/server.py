"""Assembles and runs the grpc.aio server: servicer, health, reflection, shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
import sys
from collections.abc import Callable
from typing import Any

import grpc
import prometheus_client
import uvloop
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from redis.asyncio import Redis

from graphrestore_gateway import check_policy, logs, metrics, tracing
from graphrestore_gateway.access.callers import (
    Authenticator,
    BearerToken,
    ClientCertificate,
    NoAuthentication,
)
from graphrestore_gateway.access.policy import PolicyError, load_policy
from graphrestore_gateway.access.policy_source import PolicySource
from graphrestore_gateway.access.refusals import RefusalBudget
from graphrestore_gateway.config import ConfigError, ServerTls, Settings, load_settings
from graphrestore_gateway.graph.auth import TokenProvider
from graphrestore_gateway.graph.backoff import Backoff
from graphrestore_gateway.graph.budget import Budget, FairShare, LocalBudget, RedisBudget
from graphrestore_gateway.graph.client import GraphClient, new_http_client
from graphrestore_gateway.graph.credentials import token_source
from graphrestore_gateway.health import LIVENESS, Check, HealthReporter, TokenHealth
from graphrestore_gateway.records.audit_log import AuditLog
from graphrestore_gateway.records.exactly_once import ExactlyOnce
from graphrestore_gateway.records.redis_store import RedisStore
from graphrestore_gateway.records.sqlite_store import SqliteStore
from graphrestore_gateway.records.store import RequestStore
from graphrestore_gateway.reflection import DocumentedReflectionServicer
from graphrestore_gateway.restore.call import current_log_fields
from graphrestore_gateway.restore.drive_units import DriveDirectory
from graphrestore_gateway.restore.page_tokens import PageTokens
from graphrestore_gateway.restore.service import RestoreService
from graphrestore_gateway.restore.watch import SessionWatcher
from graphrestore_gateway.restore.workloads import WORKLOADS
from graphrestore_gateway.rpc.auditor import Auditor
from graphrestore_gateway.rpc.authenticated_only import AuthenticatedOnly
from graphrestore_gateway.rpc.pipeline import Pipeline
from graphrestore_gateway.rpc.status import status_of

SERVICE_NAMES = [workload.service.full_name for workload in WORKLOADS.values()]
# A health detail, not part of the gateway's own status: NOT_SERVING while the policy
# file, as it is now, is not the policy in force (an edit was refused).
POLICY_HEALTH_SERVICE = "graphrestore.policy-file"
SHUTDOWN_GRACE_S = 20.0
# Then requests whose callers have gone get this long to record what Graph made (within
# Kubernetes' 30 s between SIGTERM and SIGKILL).
DRAIN_S = 5.0
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# Calls one caller may have waiting for the Graph budget on one replica.
MAX_WAITING_PER_CALLER = 64

log = logging.getLogger("graphrestore_gateway")


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """System trust plus GRAPHRESTORE_CA_FILE, for both Entra ID and Graph."""
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    return context


def token_provider(
    settings: Settings, context: ssl.SSLContext, on_health: Callable[[bool], None]
) -> TokenProvider:
    return TokenProvider(lambda: token_source(settings, context), on_health)


def authenticator(settings: Settings, trust: ssl.SSLContext) -> Authenticator:
    if settings.auth == "mtls":
        return ClientCertificate()
    if settings.jwt is not None:
        return BearerToken(settings.jwt, trust)
    return NoAuthentication()


def server_credentials(tls: ServerTls) -> grpc.ServerCredentials:
    """TLS whose certificate, key and client CA reload when their files change: the
    fetcher runs per connection, so it only compares modification times."""
    files = [tls.cert_file, tls.key_file, *([tls.client_ca_file] if tls.client_ca_file else [])]

    def stamps() -> list[float]:
        return [f.stat().st_mtime for f in files]

    def configuration() -> Any:
        return grpc.ssl_server_certificate_configuration(
            [(tls.key_file.read_bytes(), tls.cert_file.read_bytes())],
            root_certificates=tls.client_ca_file.read_bytes() if tls.client_ca_file else None,
        )

    loaded = stamps()

    def fetch() -> Any:
        nonlocal loaded
        try:
            current = stamps()
            if current == loaded:
                return None
            fresh = configuration()
        except OSError as exc:
            log.error(
                "TLS files unreadable; keeping the loaded ones",
                extra={"fields": {"error": str(exc)}},
            )
            return None
        loaded = current
        log.info("TLS certificates reloaded")
        return fresh

    return grpc.dynamic_ssl_server_credentials(
        configuration(), fetch, require_client_authentication=tls.client_ca_file is not None
    )


def serve_metrics(settings: Settings) -> None:
    """Prometheus on its own port, over the gateway's TLS when it has one; off loopback,
    only to a scraper with a client certificate of settings.metrics_client_ca_file."""
    host, port = settings.metrics_listen or ("127.0.0.1", 0)
    tls = settings.server_tls
    scrapers = settings.metrics_client_ca_file
    httpd, _ = prometheus_client.start_http_server(
        port,
        addr=host,
        registry=metrics.REGISTRY,
        certfile=str(tls.cert_file) if tls else None,
        keyfile=str(tls.key_file) if tls else None,
        client_cafile=str(scrapers) if scrapers else None,
        client_auth_required=scrapers is not None,
    )
    scheme = "https" if tls else "http"
    url = f"{scheme}://{host}:{httpd.server_port}/metrics"
    log.info(
        "metrics listening",
        extra={
            "fields": {
                "url": url,
                "port": httpd.server_port,
                "client_certificate_required": scrapers is not None,
            }
        },
    )


async def serve_health(settings: Settings, health: HealthServicer) -> grpc.aio.Server | None:
    """grpc.health.v1 alone on a plaintext port, for probes that cannot do mTLS."""
    if settings.health_listen is None:
        return None
    host, port = settings.health_listen
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    bound = server.add_insecure_port(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    await server.start()
    log.info("health listening", extra={"fields": {"address": f"{host}:{bound}", "port": bound}})
    return server


def reload_policy(source: PolicySource, health: HealthServicer) -> asyncio.Task[None]:
    """The task that reloads the policy file, and its health detail kept up to date."""
    statuses: set[asyncio.Task[None]] = set()
    serving = health_pb2.HealthCheckResponse

    def reloaded(refused: PolicyError | None) -> None:
        status = serving.NOT_SERVING if refused else serving.SERVING
        task = asyncio.ensure_future(health.set(POLICY_HEALTH_SERVICE, status))
        statuses.add(task)
        task.add_done_callback(statuses.discard)

    reloaded(None)
    source.on_reload(reloaded)
    return asyncio.create_task(source.keep_reloading())


async def serve(settings: Settings) -> None:
    context = ssl_context(settings)
    redis = (
        Redis.from_url(
            settings.redis_url,
            password=settings.redis_password.reveal() if settings.redis_password else None,
            socket_timeout=settings.redis_timeout_s,
            socket_connect_timeout=settings.redis_timeout_s,
        )
        if settings.redis_url
        else None
    )
    tenant_budget: Budget = (
        RedisBudget(redis, settings.tenant_id, settings.graph_rate_per_s, settings.graph_burst)
        if redis
        else LocalBudget(settings.graph_rate_per_s, settings.graph_burst)
    )
    budget = FairShare(tenant_budget, MAX_WAITING_PER_CALLER)
    health = HealthServicer()
    token_health = TokenHealth()
    tokens = token_provider(settings, context, token_health.report)
    graph = GraphClient(
        new_http_client(settings.graph_url, context),
        tokens,
        budget,
        backoff=Backoff(base_s=settings.graph_backoff_s),
        list_lag_s=settings.graph_list_lag_s,
    )
    callers = authenticator(settings, context)
    tracer_provider, trace_interceptor = (
        tracing.start(settings.otlp_endpoint) if settings.otlp_endpoint else (None, None)
    )
    server = grpc.aio.server(
        interceptors=[trace_interceptor] if trace_interceptor is not None else [],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    store: RequestStore = (
        await RedisStore.open(redis)
        if redis
        else SqliteStore(settings.state_dir / "requests.sqlite3")
    )
    page_token_key = (
        settings.page_token_key.reveal().encode()
        if settings.page_token_key is not None
        else await store.generated_key("page-tokens")
    )
    drives = DriveDirectory()
    policy_source = PolicySource(settings.policy_file)
    once = ExactlyOnce(store, status_of)
    pipeline = Pipeline(
        callers,
        policy_source,
        store,
        once,
        Auditor(AuditLog(settings.audit_file)),
        graph,
        drives,
        settings.max_watches_per_caller,
        RefusalBudget(settings.refused_calls_per_minute),
    )
    page_tokens = PageTokens(page_token_key)
    for workload in WORKLOADS.values():
        watcher = SessionWatcher(graph.of_workload(workload.sessions))
        servicer = RestoreService(workload, graph, watcher, store, page_tokens, drives)
        pipeline.register(servicer, server)
    authenticated_only = AuthenticatedOnly(server, callers)
    # It stands in for the server: it has the two methods that generated code calls.
    health_pb2_grpc.add_HealthServicer_to_server(health, authenticated_only)  # type: ignore[arg-type]
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(  # type: ignore[no-untyped-call]
        DocumentedReflectionServicer(
            [
                *SERVICE_NAMES,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ]
        ),
        authenticated_only,
    )
    if settings.server_tls is None:
        port = server.add_insecure_port(settings.listen_address)
    else:
        port = server.add_secure_port(
            settings.listen_address, server_credentials(settings.server_tls)
        )
    reporter = HealthReporter(
        health,
        SERVICE_NAMES,
        [
            Check("graph-token", token_health.probe),
            Check("request-store", store.ping),
        ],
    )
    token_health.on_change = reporter.poke
    # Checked before anything serves: no probe may see readiness before it is known.
    await tokens.prefetch()
    await reporter.check_now()
    await health.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    await server.start()
    if settings.metrics_listen is not None:
        serve_metrics(settings)
    health_server = await serve_health(settings, health)
    reporter.start()
    policy_reloads = reload_policy(policy_source, health) if settings.policy_file else None
    # Before "listening" is said: whoever reads it may send SIGTERM at once.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if settings.auth == "none":
        log.warning(
            "INSECURE: GRAPHRESTORE_AUTH=none: callers are not authenticated; loopback only",
            extra={"fields": {"listen": settings.listen_address}},
        )
    log.info(
        "listening",
        extra={
            "fields": {
                "address": f"{settings.listen_host}:{port}",
                "port": port,
                "auth": settings.auth,
                "graph_url": settings.graph_url,
                "tenant_id": settings.tenant_id,
            }
        },
    )
    await stop.wait()
    log.info("shutting down", extra={"fields": {"grace_s": SHUTDOWN_GRACE_S}})
    await reporter.stop()
    if policy_reloads is not None:
        policy_reloads.cancel()
    await health.enter_graceful_shutdown()
    await server.stop(SHUTDOWN_GRACE_S)
    # Creates whose callers have gone: what Graph made is recorded before the store closes.
    await once.drain(DRAIN_S)
    if health_server is not None:
        await health_server.stop(None)
    # Audit records are fsync'd as written; request records are committed as changed.
    await store.close()
    await graph.aclose()
    if tracer_provider is not None:
        tracer_provider.shutdown()  # sends what is still buffered
    log.info("stopped")


USAGE = """usage: graphrestore-gateway                    serve (GRAPHRESTORE_* settings)
       graphrestore-gateway check-policy FILE  check a policy file before deploying it

The settings: docs/operations.md."""


def main() -> None:
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(USAGE)
        sys.exit(0)
    if sys.argv[1:2] == ["check-policy"]:
        sys.exit(check_policy.main(sys.argv[2:]))
    logs.configure(current_log_fields)
    try:
        settings = load_settings(os.environ)
        if settings.policy_file is not None:
            load_policy(settings.policy_file)
    except ConfigError as exc:
        print(f"graphrestore-gateway: {exc}", file=sys.stderr)
        sys.exit(2)
    except PolicyError as exc:
        print(f"graphrestore-gateway: GRAPHRESTORE_POLICY_FILE: {exc}", file=sys.stderr)
        sys.exit(2)
    # libuv's loop: 3-10 % less CPU per call than asyncio's own, and a shorter
    # latency at one call in flight (`make bench`).
    uvloop.run(serve(settings))
