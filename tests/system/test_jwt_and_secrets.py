"""GRAPHRESTORE_AUTH=jwt against the emulator's Entra JWKS; the gateway's own credential
by certificate with x5c (workload identity and managed identity: test_credentials.py);
and no secret or token anywhere in what the gateways wrote."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from graphrestore.channel import open_channel
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from helpers import create_request, error_info, wait_for
from pki import Authority
from processes import BIN, Emulator, Gateway, own_gateway, start_gateway
from test_tokens import self_signed_pem

AUDIENCE = "api://graphrestore"


@dataclass
class JwtSetup:
    gateway: Gateway
    ca: Authority
    caller_id: str
    audit_file: Path
    tokens_used: list[str]

    def token(self, emulator: Emulator, **extra: object) -> str:
        body = {"client_id": self.caller_id, "audience": AUDIENCE, **extra}
        token = str(emulator.control.post("/_emulator/tokens", json=body).json()["access_token"])
        self.tokens_used.append(token)
        return token

    def call(self, token: str | None) -> grpc.RpcError | None:
        metadata = [("authorization", f"Bearer {token}")] if token is not None else []
        with open_channel(self.gateway.address, ca_file=str(self.ca.cert_file)) as channel:
            stub = service_grpc.OneDriveRestoreServiceStub(channel)
            try:
                stub.CreateRestoreSession(create_request("rp-jwt"), timeout=10, metadata=metadata)
            except grpc.RpcError as error:
                return error
        return None


@pytest.fixture(scope="module")
def jwt_gateway(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JwtSetup]:
    folder = tmp_path_factory.mktemp("jwt")
    ca = Authority(folder, "internal")
    server = ca.issue("gateway", "graphrestore", server=True)
    caller = emulator.control.post("/_emulator/apps", json={"roles": []}).json()["client_id"]
    policy = folder / "policy.toml"
    policy.write_text(
        f'[[callers]]\nid = "{caller}"\nmethods = ["CreateRestoreSession"]\n'
        'destination_types = ["new"]\nmax_artifacts = 50\n'
    )
    tenant, base = emulator.info["tenant_id"], emulator.info["graph_url"]
    audit_file = folder / "audit.jsonl"
    gateway = start_gateway(
        {
            **emulator.gateway_env(),
            "GRAPHRESTORE_AUTH": "jwt",
            "GRAPHRESTORE_TLS_CERT_FILE": str(server.cert_file),
            "GRAPHRESTORE_TLS_KEY_FILE": str(server.key_file),
            "GRAPHRESTORE_JWT_JWKS_URL": f"{base}/{tenant}/discovery/v2.0/keys",
            "GRAPHRESTORE_JWT_ISSUER": f"https://sts.windows.net/{tenant}/",
            "GRAPHRESTORE_JWT_AUDIENCE": AUDIENCE,
            "GRAPHRESTORE_POLICY_FILE": str(policy),
            "GRAPHRESTORE_AUDIT_FILE": str(audit_file),
            # The module's 200 unauthenticated calls in a row are answered as such, not
            # turned away (test_refusal_budget.py holds the budget).
            "GRAPHRESTORE_REFUSED_CALLS_PER_MINUTE": "1000",
        }
    )
    yield JwtSetup(gateway, ca, caller, audit_file, [])
    assert gateway.stop() == 0


def test_a_token_from_entra_lets_its_app_in(jwt_gateway: JwtSetup, emulator: Emulator) -> None:
    token = jwt_gateway.token(emulator)
    assert jwt_gateway.call(token) is None
    record = json.loads(jwt_gateway.audit_file.read_text().splitlines()[-1])
    assert record["caller"] == jwt_gateway.caller_id


def forged(token: str) -> str:
    """The same claims signed by a key the JWKS does not know, under an unknown kid."""
    claims = jwt.decode(token, options={"verify_signature": False})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "unknown-kid"})


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["azp"] = "someone-else"
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


@pytest.mark.parametrize(
    "case", ["none", "expired", "wrong audience", "bad signature", "unknown kid", "garbage"]
)
def test_bad_tokens_are_unauthenticated(
    jwt_gateway: JwtSetup, emulator: Emulator, case: str
) -> None:
    posts_before = emulator.posts_to_create()
    token = {
        "none": lambda: None,
        "expired": lambda: jwt_gateway.token(emulator, lifetime_s=-600),
        "wrong audience": lambda: jwt_gateway.token(emulator, audience="api://somebody-else"),
        "bad signature": lambda: tampered(jwt_gateway.token(emulator)),
        "unknown kid": lambda: forged(jwt_gateway.token(emulator)),
        "garbage": lambda: "not-a-jwt",
    }[case]()
    error = jwt_gateway.call(token)
    assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(error).reason == "UNAUTHENTICATED"
    assert emulator.posts_to_create() == posts_before


@pytest.mark.parametrize("case", ["no token", "forged token"])
def test_health_and_reflection_refuse_a_caller_who_does_not_prove_who_it_is(
    jwt_gateway: JwtSetup, emulator: Emulator, case: str
) -> None:
    """Health and reflection are open to any authenticated caller, and to no one else:
    on the port the restore services are served on, they would tell a stranger what runs."""
    good = [("authorization", f"Bearer {jwt_gateway.token(emulator)}")]
    bad = [] if case == "no token" else [("authorization", f"Bearer {forged(good[0][1][7:])}")]
    listing = reflection_pb2.ServerReflectionRequest(list_services="")
    with open_channel(
        jwt_gateway.gateway.address, ca_file=str(jwt_gateway.ca.cert_file)
    ) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        checked = health.Check(health_pb2.HealthCheckRequest(), timeout=5, metadata=good)
        assert checked.status == health_pb2.HealthCheckResponse.SERVING
        [listed] = reflection.ServerReflectionInfo(iter([listing]), timeout=5, metadata=good)
        assert listed.list_services_response.service
        with pytest.raises(grpc.RpcError) as refused_check:
            health.Check(health_pb2.HealthCheckRequest(), timeout=5, metadata=bad)
        with pytest.raises(grpc.RpcError) as refused_watch:
            next(health.Watch(health_pb2.HealthCheckRequest(), timeout=5, metadata=bad))
        with pytest.raises(grpc.RpcError) as refused_listing:
            list(reflection.ServerReflectionInfo(iter([listing]), timeout=5, metadata=bad))
    for refused in (refused_check, refused_watch, refused_listing):
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert error_info(refused.value).reason == "UNAUTHENTICATED"


def test_grpcurl_with_a_bearer_header(jwt_gateway: JwtSetup, emulator: Emulator) -> None:
    token = jwt_gateway.token(emulator)
    result = subprocess.run(
        [
            str(BIN / "grpcurl"),
            "-cacert",
            str(jwt_gateway.ca.cert_file),
            "-H",
            f"authorization: Bearer {token}",
            "-d",
            '{"restore_session": {"drive_restore_artifacts": [{"restore_point": {"id": "rp-h"}, '
            '"destination_type": "DESTINATION_TYPE_NEW"}]}}',
            jwt_gateway.gateway.address,
            "graphrestore.v1.OneDriveRestoreService/CreateRestoreSession",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "RESTORE_SESSION_STATUS_DRAFT"


def test_certificate_credential_sends_x5c_when_asked(emulator: Emulator, tmp_path: Path) -> None:
    pem = self_signed_pem()
    app = emulator.control.post("/_emulator/apps", json={"certificate_pem": pem.decode()}).json()
    cert_file = tmp_path / "gateway.pem"
    cert_file.write_bytes(pem)
    env = emulator.gateway_env()
    del env["GRAPHRESTORE_CLIENT_SECRET_FILE"]
    env.update(
        GRAPHRESTORE_CLIENT_ID=app["client_id"],
        GRAPHRESTORE_CLIENT_CERT_FILE=str(cert_file),
        GRAPHRESTORE_CLIENT_CERT_SEND_X5C="true",
    )
    before = emulator.counters()["assertions_with_x5c"]
    with own_gateway(env) as (_, stub):
        assert stub.CreateRestoreSession(create_request("rp-x5c"), timeout=10).id
    assert emulator.counters()["assertions_with_x5c"] == before + 1


def test_calls_without_valid_credentials_are_audited_coalesced(jwt_gateway: JwtSetup) -> None:
    def unauthenticated_records() -> list[dict[str, object]]:
        lines = jwt_gateway.audit_file.read_text().splitlines()
        return [r for r in map(json.loads, lines) if r["reason"] == "UNAUTHENTICATED"]

    def bad_calls(stub: service_grpc.OneDriveRestoreServiceStub, count: int) -> None:
        for _ in range(count):
            with pytest.raises(grpc.RpcError) as failure:
                stub.CreateRestoreSession(
                    create_request("rp-flood"),
                    timeout=10,
                    metadata=[("authorization", "Bearer not-a-jwt")],
                )
            assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED

    def calls_written(records: list[dict[str, object]]) -> int:
        return sum(1 + int(r["unaudited_before"]) for r in records)  # type: ignore[call-overload]

    with open_channel(jwt_gateway.gateway.address, ca_file=str(jwt_gateway.ca.cert_file)) as ch:
        stub = service_grpc.OneDriveRestoreServiceStub(ch)
        # Until a window opens: its first call is written, with any left over before.
        seen = len(unauthenticated_records())

        def a_record_is_written() -> bool:
            bad_calls(stub, 1)
            return len(unauthenticated_records()) > seen

        assert wait_for(a_record_is_written, within_s=10)
        seen = len(unauthenticated_records())
        started = time.monotonic()
        bad_calls(stub, 200)
        flood_s = time.monotonic() - started
        after_flood = 0

        def every_call_is_counted() -> bool:
            # The next window's first call is written, counting the left-out calls.
            nonlocal after_flood
            bad_calls(stub, 1)
            after_flood += 1
            return calls_written(unauthenticated_records()[seen:]) == 200 + after_flood

        assert wait_for(every_call_is_counted, within_s=10)
    records = unauthenticated_records()[seen:]
    assert calls_written(records) == 200 + after_flood
    assert len(records) <= flood_s + 3
    assert all(r["decision"] == "denied" and r["peer"] for r in records)


def test_no_secret_or_token_in_anything_the_gateways_wrote(
    jwt_gateway: JwtSetup, emulator: Emulator
) -> None:
    """Runs last in this module: the gateway is stopped, so all it wrote has been read."""
    assert jwt_gateway.gateway.stop() == 0
    secret = Path(emulator.info["client_secret_file"]).read_text().strip()
    graph_token = emulator.control.post(
        "/_emulator/tokens",
        json={"client_id": emulator.info["client_id"], "audience": "https://graph.microsoft.com"},
    ).json()["access_token"]
    written = "".join(jwt_gateway.gateway.log_lines) + jwt_gateway.audit_file.read_text()
    assert jwt_gateway.tokens_used
    for needle in [secret, *jwt_gateway.tokens_used]:
        assert needle not in written
    # Graph tokens share their header; their signatures are what must never leak.
    assert graph_token.split(".")[2] not in written
    assert "PRIVATE KEY" not in written
