"""The gateway gets app-only tokens with msal: one per lifetime, refreshed after a 401."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import create_request, error_info, wait_for
from processes import Emulator, own_gateway


def test_64_concurrent_creates_cost_one_token_request(emulator: Emulator) -> None:
    """The token asked for at start, or the calls' one request for it, serves all 64."""
    tokens_before = emulator.counters()["tokens_issued"]
    with own_gateway(emulator.gateway_env()) as (_, stub), ThreadPoolExecutor(64) as pool:
        calls = [
            pool.submit(stub.CreateRestoreSession, create_request(f"rp-{i}"), timeout=30)
            for i in range(64)
        ]
        sessions = [call.result() for call in calls]
    assert len({s.id for s in sessions}) == 64
    assert emulator.counters()["tokens_issued"] == tokens_before + 1


def test_a_401_drops_the_token_and_retries_once(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    stub.CreateRestoreSession(create_request("warm-up"), timeout=10)
    emulator.fault_on_create(
        kind="status",
        status=401,
        code="InvalidAuthenticationToken",
    )
    before = emulator.counters()
    posts_before = emulator.posts_to_create()
    session = stub.CreateRestoreSession(create_request("rp-1"), timeout=10)
    assert session.id
    assert emulator.counters()["tokens_issued"] == before["tokens_issued"] + 1
    assert emulator.posts_to_create() == posts_before + 2


def test_a_second_401_is_internal_because_callers_cannot_fix_it(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    emulator.fault_on_create(
        kind="status",
        status=401,
        code="InvalidAuthenticationToken",
        times=2,
    )
    posts_before = emulator.posts_to_create()
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("rp-1"), timeout=10)
    assert failure.value.code() == grpc.StatusCode.INTERNAL
    assert error_info(failure.value).reason == "INVALID_AUTHENTICATION_TOKEN"
    assert emulator.posts_to_create() == posts_before + 2


def self_signed_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "graphrestore-test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM) + key_pem


def emulator_app_of(emulator: Emulator, session_id: str) -> str:
    """The app whose token created the session, as the emulator saw it."""
    sessions = emulator.control.get("/_emulator/sessions").json()["sessions"]
    return str(next(s["app_id"] for s in sessions if s["id"] == session_id))


def test_a_certificate_credential_gets_tokens_by_signed_assertion(
    emulator: Emulator, tmp_path: Path
) -> None:
    pem = self_signed_pem()
    app = emulator.control.post("/_emulator/apps", json={"certificate_pem": pem.decode()}).json()
    cert_file = tmp_path / "gateway.pem"
    cert_file.write_bytes(pem)
    env = emulator.gateway_env()
    del env["GRAPHRESTORE_CLIENT_SECRET_FILE"]
    env.update(
        GRAPHRESTORE_CLIENT_ID=app["client_id"], GRAPHRESTORE_CLIENT_CERT_FILE=str(cert_file)
    )
    with own_gateway(env) as (gateway, stub):
        session = stub.CreateRestoreSession(create_request("rp-1"), timeout=10)
    assert emulator_app_of(emulator, session.id) == app["client_id"]
    assert "PRIVATE KEY" not in "".join(gateway.log_lines)


def test_a_wrong_secret_is_internal_and_never_shown(emulator: Emulator, tmp_path: Path) -> None:
    wrong_secret = secrets.token_urlsafe(24)
    secret_file = tmp_path / "secret"
    secret_file.write_text(wrong_secret)
    env = {**emulator.gateway_env(), "GRAPHRESTORE_CLIENT_SECRET_FILE": str(secret_file)}
    with own_gateway(env) as (gateway, stub), pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("rp-1"), timeout=10)
    assert failure.value.code() == grpc.StatusCode.INTERNAL
    info = error_info(failure.value)
    assert (info.domain, info.reason) == ("graphrestore", "INVALID_CLIENT")
    assert "AADSTS7000215" in failure.value.details()
    assert wrong_secret not in failure.value.details()
    assert wrong_secret not in "".join(gateway.log_lines)


def test_entra_out_of_reach_is_unavailable(emulator: Emulator) -> None:
    env = {**emulator.gateway_env(), "GRAPHRESTORE_AUTHORITY_HOST": "https://127.0.0.1:9"}
    with own_gateway(env) as (_, stub), pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("rp-1"), timeout=20)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(failure.value).reason == "ENTRA_UNREACHABLE"


def token_requests(emulator: Emulator) -> int:
    return int(emulator.counters()["received"].get("POST /{id}/oauth2/v2.0/token", 0))


def health_of(channel: grpc.Channel) -> int:
    answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return int(answer.status)


def test_entra_down_fails_fast_without_a_storm_and_health_follows(emulator: Emulator) -> None:
    emulator.fault(kind="status", path="/oauth2/v2.0/token$", status=503, code="down", times=1000)
    with own_gateway(emulator.gateway_env()) as (gateway, stub):
        before = token_requests(emulator)
        codes = []
        for index in range(20):
            with pytest.raises(grpc.RpcError) as failure:
                stub.CreateRestoreSession(create_request(f"rp-down-{index}"), timeout=10)
            codes.append((failure.value.code(), error_info(failure.value).reason))
        assert set(codes) == {(grpc.StatusCode.UNAVAILABLE, "ENTRA_UNREACHABLE")}
        # 20 calls, a handful of token requests (msal's own retry included), not 20.
        assert token_requests(emulator) - before <= 4
        with grpc.insecure_channel(gateway.address) as channel:
            assert health_of(channel) == health_pb2.HealthCheckResponse.NOT_SERVING
            emulator.clear_faults()
            assert wait_for(
                lambda: health_of(channel) == health_pb2.HealthCheckResponse.SERVING, within_s=20
            )
        assert stub.CreateRestoreSession(create_request("rp-up-again"), timeout=10).id


def test_a_token_is_refreshed_in_the_background_before_it_expires(
    emulator: Emulator, tmp_path: Path
) -> None:
    secret = secrets.token_urlsafe(24)
    # 305 s: inside the gateway's (and msal's) 300 s refresh margin after 5 s.
    app = emulator.control.post(
        "/_emulator/apps", json={"secret": secret, "token_lifetime_s": 305}
    ).json()
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret)
    env = {
        **emulator.gateway_env(),
        "GRAPHRESTORE_CLIENT_ID": app["client_id"],
        "GRAPHRESTORE_CLIENT_SECRET_FILE": str(secret_file),
    }
    before = emulator.counters()["tokens_issued"]
    with own_gateway(env) as (_, stub):
        stub.CreateRestoreSession(create_request("rp-early-1"), timeout=10)
        assert emulator.counters()["tokens_issued"] == before + 1

        def served_then_refreshed() -> bool:
            # Served with the token in hand; once it is in the margin (after 5 s), a
            # refresh runs beside the call.
            stub.CreateRestoreSession(create_request("rp-early-2"), timeout=10)
            return bool(emulator.counters()["tokens_issued"] == before + 2)

        assert wait_for(served_then_refreshed, within_s=20)
        stub.CreateRestoreSession(create_request("rp-early-3"), timeout=10)
    assert emulator.counters()["tokens_issued"] == before + 2
