"""Readiness follows the gateway's dependencies: the request store (the Graph token's part
is in test_tokens.py). NOT_SERVING while one fails, SERVING again once it is back. A
broken policy edit keeps the gateway SERVING with the last good policy; its own detail
says so. Liveness never follows a dependency. `graphrestore-healthcheck` asks either, with
the gateway's own settings, in every auth mode."""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import wait_for
from pki import Authority
from processes import (
    BIN,
    Emulator,
    Gateway,
    clean_env,
    own_gateway,
    running_redis,
    start_gateway,
    start_mtls_gateway,
)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def health_of(address: str, service: str = "") -> int:
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service=service)
        return int(stub.Check(request, timeout=5).status)


def healthcheck(env: dict[str, str], probe: str) -> subprocess.CompletedProcess[str]:
    """`graphrestore-healthcheck --probe PROBE` with the gateway's settings."""
    return subprocess.run(
        [str(BIN / "graphrestore-healthcheck"), "--probe", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def health_port(gateway: Gateway) -> int:
    [line] = [json.loads(x) for x in gateway.log_lines if "health listening" in x]
    return int(line["port"])


def secured_env(auth: str, emulator: Emulator, folder: Path) -> dict[str, str]:
    """A gateway's settings for GRAPHRESTORE_AUTH=mtls or jwt, with a health-only port."""
    ca = Authority(folder, "internal")
    server = ca.issue("gateway", "graphrestore", server=True)
    (folder / "policy.toml").write_text('[[callers]]\nid = "x"\nmethods = []\n')
    tenant, base = emulator.info["tenant_id"], emulator.info["graph_url"]
    by_auth = {
        "mtls": {"GRAPHRESTORE_CLIENT_CA_FILE": str(ca.cert_file)},
        "jwt": {
            "GRAPHRESTORE_JWT_JWKS_URL": f"{base}/{tenant}/discovery/v2.0/keys",
            "GRAPHRESTORE_JWT_ISSUER": f"https://sts.windows.net/{tenant}/",
            "GRAPHRESTORE_JWT_AUDIENCE": "api://graphrestore",
        },
    }
    return {
        **emulator.gateway_env(),
        "GRAPHRESTORE_AUTH": auth,
        "GRAPHRESTORE_TLS_CERT_FILE": str(server.cert_file),
        "GRAPHRESTORE_TLS_KEY_FILE": str(server.key_file),
        "GRAPHRESTORE_POLICY_FILE": str(folder / "policy.toml"),
        "GRAPHRESTORE_HEALTH_LISTEN": "127.0.0.1:0",
        **by_auth[auth],
    }


def test_health_follows_redis_going_away_and_coming_back(
    emulator: Emulator, tmp_path: Path
) -> None:
    with contextlib.ExitStack() as first_redis:
        # It persists (AOF), as Redis must: one back empty has lost the request records,
        # and health stays NOT_SERVING (test_redis_faults.py).
        url = first_redis.enter_context(running_redis(tmp_path, persist=True))
        port = urlsplit(url).port
        assert port is not None
        env = {**emulator.gateway_env(), "GRAPHRESTORE_REDIS_URL": url}
        with own_gateway(env) as (gateway, _):
            checker_env = {
                **env,
                "GRAPHRESTORE_LISTEN": gateway.address,
                "GRAPHRESTORE_STATE_DIR": str(tmp_path / "checker-state"),
            }
            assert wait_for(lambda: health_of(gateway.address) == SERVING, within_s=5)
            first_redis.close()  # Redis stops under the running gateway
            assert wait_for(lambda: health_of(gateway.address) == NOT_SERVING, within_s=10)
            assert health_of(gateway.address, "readiness") == NOT_SERVING
            # The process serves: restarting it would not bring Redis back.
            assert health_of(gateway.address, "liveness") == SERVING
            assert healthcheck(checker_env, "readiness").returncode == 1
            assert healthcheck(checker_env, "liveness").returncode == 0
            with running_redis(tmp_path, port, persist=True):
                assert wait_for(lambda: health_of(gateway.address) == SERVING, within_s=10)
                assert health_of(gateway.address, "readiness") == SERVING


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


def test_the_healthcheck_asks_the_main_port_of_a_gateway_without_auth(
    emulator: Emulator, tmp_path: Path
) -> None:
    with own_gateway(emulator.gateway_env()) as (gateway, _):
        env = {
            **emulator.gateway_env(),
            "GRAPHRESTORE_LISTEN": gateway.address,
            "GRAPHRESTORE_STATE_DIR": str(tmp_path),
        }
        for probe in ("liveness", "readiness"):
            checked = healthcheck(env, probe)
            assert (checked.returncode, checked.stdout.strip()) == (0, "SERVING"), checked.stderr


@pytest.mark.parametrize("auth", ["mtls", "jwt"])
def test_the_healthcheck_asks_the_health_port_of_a_gateway_with_auth(
    emulator: Emulator, tmp_path: Path, auth: str
) -> None:
    """Kubernetes' own gRPC probe and the image's HEALTHCHECK take the same way in."""
    env = secured_env(auth, emulator, tmp_path)
    gateway = start_gateway(env)
    try:
        probe_address = f"127.0.0.1:{health_port(gateway)}"
        assert health_of(probe_address, "liveness") == SERVING
        assert health_of(probe_address, "readiness") == SERVING
        checker_env = {
            **env,
            "GRAPHRESTORE_LISTEN": gateway.address,
            "GRAPHRESTORE_HEALTH_LISTEN": probe_address,
            "GRAPHRESTORE_STATE_DIR": str(tmp_path),
        }
        for probe in ("liveness", "readiness"):
            checked = healthcheck(checker_env, probe)
            assert (checked.returncode, checked.stdout.strip()) == (0, "SERVING"), checked.stderr
        # Without the health port it cannot prove who it is, and says what it needs.
        without = {k: v for k, v in checker_env.items() if k != "GRAPHRESTORE_HEALTH_LISTEN"}
        refused = healthcheck(without, "liveness")
        assert refused.returncode == 1
        assert "GRAPHRESTORE_HEALTH_LISTEN: is required" in refused.stderr
    finally:
        assert gateway.stop() == 0


def test_a_broken_policy_at_start_refuses_to_start(emulator: Emulator, tmp_path: Path) -> None:
    """Liveness keeps a running gateway up through a bad policy edit; a gateway that never
    had a good policy does not start (no pod serves a policy nobody wrote)."""
    policy = tmp_path / "policy.toml"
    policy.write_text("[[callers]\nbroken")
    started = subprocess.run(
        [str(BIN / "graphrestore-gateway")],
        env=clean_env(
            {
                **emulator.gateway_env(),
                "GRAPHRESTORE_POLICY_FILE": str(policy),
                "GRAPHRESTORE_STATE_DIR": str(tmp_path / "state"),
            }
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert started.stderr.startswith("graphrestore-gateway: GRAPHRESTORE_POLICY_FILE: ")
