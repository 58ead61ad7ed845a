"""`graphrestore-healthcheck`: ask the local gateway's grpc.health.v1 service (the
container's HEALTHCHECK); exit 0 when it is SERVING, 1 otherwise. It reads the gateway's
own settings, so it asks where the gateway answers: the health-only port when there is
one. Without it, only a gateway with GRAPHRESTORE_AUTH=none can be asked: health on the
main port answers only callers who prove who they are (a client certificate, a token)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from graphrestore_gateway.config import ConfigError, Settings, load_settings
from graphrestore_gateway.health import LIVENESS, READINESS

TIMEOUT_S = 3.0
# A gateway listening on every address is asked on loopback.
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def health_address(settings: Settings) -> str:
    """Where the gateway answers health in plaintext; ConfigError if nowhere."""
    if settings.health_listen is not None:
        host, port = settings.health_listen
    elif settings.auth == "none":
        host, port = settings.listen_host, settings.listen_port
    else:
        raise ConfigError(
            "GRAPHRESTORE_HEALTH_LISTEN",
            f"is required to check a gateway with GRAPHRESTORE_AUTH={settings.auth}: "
            "its main port answers health only to callers who prove who they are",
        )
    host = WILDCARDS.get(host, host)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="graphrestore-healthcheck", description=__doc__)
    parser.add_argument(
        "--probe",
        choices=[LIVENESS, READINESS],
        default=READINESS,
        help=f"{LIVENESS}: the process serves; {READINESS} (default): its dependencies work",
    )
    probe = parser.parse_args().probe
    try:
        address = health_address(load_settings(os.environ))
    except ConfigError as exc:
        print(f"graphrestore-healthcheck: {exc}", file=sys.stderr)
        sys.exit(1)
    with grpc.insecure_channel(address) as channel:
        try:
            stub: Any = health_pb2_grpc.HealthStub(channel)  # the stubs omit its methods
            answer = stub.Check(health_pb2.HealthCheckRequest(service=probe), timeout=TIMEOUT_S)
        except grpc.RpcError as error:
            print(f"unhealthy: {error}", file=sys.stderr)
            sys.exit(1)
    serving = answer.status == health_pb2.HealthCheckResponse.SERVING
    print(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))
    sys.exit(0 if serving else 1)
