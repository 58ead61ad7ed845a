"""`graphrestore-healthcheck`: ask the local gateway's grpc.health.v1 service (the
container's HEALTHCHECK); exit 0 when it is SERVING, 1 otherwise."""

from __future__ import annotations

import os
import sys
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

TIMEOUT_S = 3.0


def main() -> None:
    port = os.environ.get("GRAPHRESTORE_LISTEN", "127.0.0.1:50051").rpartition(":")[2]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            stub: Any = health_pb2_grpc.HealthStub(channel)  # the stubs omit its methods
            answer = stub.Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT_S)
        except grpc.RpcError as error:
            print(f"unhealthy: {error}", file=sys.stderr)
            sys.exit(1)
    serving = answer.status == health_pb2.HealthCheckResponse.SERVING
    print(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))
    sys.exit(0 if serving else 1)
