"""Assembles and runs the grpc.aio server: servicer, health, reflection, shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
import sys

import grpc
import msal
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from graphrestore_gateway import logs
from graphrestore_gateway.config import ConfigError, Settings, load_settings
from graphrestore_gateway.graph.auth import MsalHttpClient, TokenProvider
from graphrestore_gateway.graph.client import GraphClient, new_http_client
from graphrestore_gateway.onedrive import OneDriveRestoreService
from graphrestore_gateway.reflection import DocumentedReflectionServicer
from graphrestore_gateway.watch import SessionWatcher

SERVICE_NAME = service_pb.DESCRIPTOR.services_by_name["OneDriveRestoreService"].full_name
SHUTDOWN_GRACE_S = 20.0
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
TOKEN_HTTP_TIMEOUT_S = 15.0

log = logging.getLogger("graphrestore_gateway")


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """System trust plus GRAPHRESTORE_CA_FILE, for both Entra ID and Graph."""
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    return context


def token_provider(settings: Settings, context: ssl.SSLContext) -> TokenProvider:
    if settings.client_certificate is not None:
        certificate = settings.client_certificate
        credential: object = {
            "private_key": certificate.private_key_pem.reveal(),
            # msal derives the SHA-256 thumbprint (x5t#S256, PS256) and x5c from it.
            "public_certificate": certificate.certificate_pem,
        }
    else:
        assert settings.client_secret is not None
        credential = settings.client_secret.reveal()
    return TokenProvider(
        lambda: msal.ConfidentialClientApplication(
            settings.client_id,
            client_credential=credential,
            authority=settings.authority,
            http_client=MsalHttpClient(verify=context, timeout=TOKEN_HTTP_TIMEOUT_S),
            instance_discovery=False,
        )
    )


async def serve(settings: Settings) -> None:
    context = ssl_context(settings)
    graph = GraphClient(
        new_http_client(settings.graph_url, context), token_provider(settings, context)
    )
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ]
    )
    service_grpc.add_OneDriveRestoreServiceServicer_to_server(
        OneDriveRestoreService(graph, SessionWatcher(graph)), server
    )
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(  # type: ignore[no-untyped-call]
        DocumentedReflectionServicer(
            [
                SERVICE_NAME,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ]
        ),
        server,
    )
    port = server.add_insecure_port(settings.listen_address)
    await server.start()
    for name in ("", SERVICE_NAME):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
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

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("shutting down", extra={"fields": {"grace_s": SHUTDOWN_GRACE_S}})
    await health.enter_graceful_shutdown()
    await server.stop(SHUTDOWN_GRACE_S)
    await graph.aclose()
    log.info("stopped")


def main() -> None:
    logs.configure()
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"graphrestore-gateway: {exc}", file=sys.stderr)
        sys.exit(2)
    asyncio.run(serve(settings))
