"""The emulator's Entra ID (tokens, AADSTS errors, JWKS) and each fault kind."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from processes import Emulator

SESSIONS = "/oneDriveForBusinessRestoreSessions"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def token_request(emulator: Emulator, tenant: str | None = None, **form: str) -> httpx.Response:
    tenant = tenant or emulator.info["tenant_id"]
    return emulator.control.post(f"/{tenant}/oauth2/v2.0/token", data=form)


def secret(emulator: Emulator) -> str:
    return Path(emulator.info["client_secret_file"]).read_text()


def credentials(emulator: Emulator, **override: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": emulator.info["client_id"],
        "client_secret": secret(emulator),
        "scope": GRAPH_SCOPE,
        **override,
    }


def test_a_client_secret_gets_a_signed_graph_token(emulator: Emulator) -> None:
    answer = token_request(emulator, **credentials(emulator))
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    discovery = emulator.control.get(
        f"/{emulator.info['tenant_id']}/v2.0/.well-known/openid-configuration"
    ).json()
    keys = emulator.control.get(discovery["jwks_uri"].removeprefix(emulator.info["graph_url"]))
    header = jwt.get_unverified_header(body["access_token"])
    jwk = next(k for k in keys.json()["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        body["access_token"],
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience="https://graph.microsoft.com",
    )
    assert claims["tid"] == emulator.info["tenant_id"]
    assert claims["appid"] == emulator.info["client_id"]
    assert "BackupRestore-Restore.ReadWrite.All" in claims["roles"]
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    ("override", "tenant", "status", "error", "aadsts"),
    [
        ({"client_secret": "wrong"}, None, 401, "invalid_client", "AADSTS7000215"),
        ({"client_id": str(uuid.UUID(int=7))}, None, 400, "unauthorized_client", "AADSTS700016"),
        ({}, "contoso.example", 400, "invalid_request", "AADSTS90002"),
        (
            {"scope": "https://graph.microsoft.com/User.Read"},
            None,
            400,
            "invalid_scope",
            "AADSTS1002012",
        ),
        (
            {"scope": "https://vault.azure.net/.default"},
            None,
            400,
            "invalid_resource",
            "AADSTS500011",
        ),
    ],
)
def test_token_errors_are_aadsts_shaped(
    emulator: Emulator,
    override: dict[str, str],
    tenant: str | None,
    status: int,
    error: str,
    aadsts: str,
) -> None:
    answer = token_request(emulator, tenant, **credentials(emulator, **override))
    assert answer.status_code == status
    body = answer.json()
    assert body["error"] == error
    assert body["error_description"].startswith(f"{aadsts}: ")
    assert body["error_codes"] == [int(aadsts.removeprefix("AADSTS"))]
    assert {"trace_id", "correlation_id", "timestamp"} <= set(body)


def test_tokens_for_the_gateways_own_audience(emulator: Emulator) -> None:
    answer = token_request(emulator, **credentials(emulator, scope="api://graphrestore/.default"))
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "api://graphrestore"
    with emulator.graph_client() as graph:
        graph.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        assert graph.get(SESSIONS).status_code == 401  # not a Graph token


@pytest.fixture
def graph(emulator: Emulator) -> Iterator[httpx.Client]:
    with emulator.graph_client() as client:
        yield client


BODY = {"driveRestoreArtifacts": [{"restorePoint": {"id": "rp-f"}, "destinationType": "new"}]}


def test_status_fault_with_retry_after(emulator: Emulator, graph: httpx.Client) -> None:
    emulator.fault(
        kind="status",
        method="POST",
        path=SESSIONS + "$",
        status=429,
        code="TooManyRequests",
        retry_after_s=7,
        times=2,
    )
    for _ in range(2):
        answer = graph.post(SESSIONS, json=BODY)
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "7"
        assert answer.json()["error"]["code"] == "TooManyRequests"
    assert graph.post(SESSIONS, json=BODY).status_code == 201


def test_delay_fault_holds_the_answer(emulator: Emulator, graph: httpx.Client) -> None:
    emulator.fault(kind="delay", method="GET", path=SESSIONS + "$", delay_s=0.5)
    started = time.monotonic()
    assert graph.get(SESSIONS).status_code == 200
    assert time.monotonic() - started >= 0.5


@pytest.mark.parametrize("kind", ["drop", "apply_then_drop"])
def test_dropped_connections(emulator: Emulator, graph: httpx.Client, kind: str) -> None:
    created_before = emulator.counters()["sessions_created"]
    emulator.fault(kind=kind, method="POST", path=SESSIONS + "$")
    with pytest.raises(httpx.TransportError):
        graph.post(SESSIONS, json=BODY)
    applied = emulator.counters()["sessions_created"] - created_before
    assert applied == (1 if kind == "apply_then_drop" else 0)
    assert emulator.counters()["faults_injected"][kind] >= 1


def test_apply_then_status_creates_but_answers_an_error(
    emulator: Emulator, graph: httpx.Client
) -> None:
    created_before = emulator.counters()["sessions_created"]
    emulator.fault(
        kind="apply_then_status",
        method="POST",
        path=SESSIONS + "$",
        status=504,
        code="gatewayTimeout",
    )
    answer = graph.post(SESSIONS, json=BODY)
    assert answer.status_code == 504
    assert emulator.counters()["sessions_created"] == created_before + 1


def test_malformed_and_truncated_bodies(emulator: Emulator, graph: httpx.Client) -> None:
    emulator.fault(kind="malformed", method="POST", path=SESSIONS + "$", status=201)
    answer = graph.post(SESSIONS, json=BODY)
    assert answer.status_code == 201
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    emulator.fault(kind="truncated", method="POST", path=SESSIONS + "$")
    with pytest.raises(httpx.TransportError):
        graph.post(SESSIONS, json=BODY)


def test_bad_fault_rules_are_refused(emulator: Emulator) -> None:
    assert emulator.control.post("/_emulator/faults", json={"kind": "meteor"}).status_code == 400
    assert (
        emulator.control.post("/_emulator/faults", json={"kind": "drop", "times": 0}).status_code
        == 400
    )
