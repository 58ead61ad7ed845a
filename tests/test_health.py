"""Health follows the gateway's dependencies: the request store (the Graph token's part
is in test_tokens.py). NOT_SERVING while one fails, SERVING again once it is back. A
broken policy edit keeps the gateway SERVING with the last good policy; its own detail
says so."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import wait_for
from processes import Emulator, own_gateway, running_redis, start_mtls_gateway

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def health_of(address: str, service: str = "") -> int:
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service=service)
        return int(stub.Check(request, timeout=5).status)


@pytest.fixture
def redis_folder(tmp_path: Path) -> Path:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    return tmp_path


def test_health_follows_redis_going_away_and_coming_back(
    emulator: Emulator, redis_folder: Path
) -> None:
    with contextlib.ExitStack() as first_redis:
        # It persists (AOF), as Redis must: one back empty has lost the request records,
        # and health stays NOT_SERVING (test_redis_faults.py).
        url = first_redis.enter_context(running_redis(redis_folder, persist=True))
        port = urlsplit(url).port
        assert port is not None
        with own_gateway({**emulator.gateway_env(), "GRAPHRESTORE_REDIS_URL": url}) as (
            gateway,
            _,
        ):
            assert wait_for(lambda: health_of(gateway.address) == SERVING, within_s=5)
            first_redis.close()  # Redis stops under the running gateway
            assert wait_for(lambda: health_of(gateway.address) == NOT_SERVING, within_s=10)
            with running_redis(redis_folder, port, persist=True):
                assert wait_for(lambda: health_of(gateway.address) == SERVING, within_s=10)


def test_health_follows_the_policy_file(emulator: Emulator, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    good = '[[callers]]\nid = "anonymous"\nmethods = ["GetRestoreSession"]\n'
    policy.write_text(good)
    with own_gateway({**emulator.gateway_env(), "GRAPHRESTORE_POLICY_FILE": str(policy)}) as (
        gateway,
        _,
    ):
        assert wait_for(lambda: health_of(gateway.address) == SERVING, within_s=5)
        policy.write_text("[[callers]\nbroken")
        # The last good policy serves: still SERVING; the policy file's detail says why.
        detail = "graphrestore.policy-file"
        assert wait_for(lambda: health_of(gateway.address, detail) == NOT_SERVING, 10)
        assert health_of(gateway.address) == SERVING
        policy.write_text(good + "\n")
        assert wait_for(lambda: health_of(gateway.address, detail) == SERVING, within_s=10)


def test_probes_without_a_client_certificate_get_health_only(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Native Kubernetes gRPC probes speak plaintext: a port of health alone."""
    gateway = start_mtls_gateway(
        {**emulator.gateway_env(), "GRAPHRESTORE_HEALTH_LISTEN": "127.0.0.1:0"},
        tmp_path,
        '[[callers]]\nid = "x"\nmethods = []\n',
    ).gateway
    try:
        assert wait_for(lambda: any("health listening" in x for x in gateway.log_lines), 5)
        [line] = [json.loads(x) for x in gateway.log_lines if "health listening" in x]
        probe_address = f"127.0.0.1:{line['port']}"
        assert health_of(probe_address) == SERVING
        with grpc.insecure_channel(probe_address) as channel, pytest.raises(grpc.RpcError) as no:
            service_grpc.OneDriveRestoreServiceStub(channel).ListRestoreSessions(
                service_pb.ListRestoreSessionsRequest(), timeout=5
            )
        assert no.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        assert gateway.stop() == 0
