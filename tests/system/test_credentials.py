"""The gateway's production credentials against the emulator: workload identity (a token
file signed by an issuer Entra trusts, read fresh for every token request), managed
identity (the platform's endpoint), AKS's variable names, and Redis's password from a
file."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore_gateway.config import FederatedToken
from graphrestore_gateway.graph.credentials import FEDERATED_TOKEN_UNREADABLE, msal_credential
from graphrestore_gateway.graph.errors import GraphError
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import create_request, error_info, wait_for
from processes import Emulator, Gateway, own_gateway, running_emulator, running_redis
from test_tokens import emulator_app_of, token_requests

# A Kubernetes cluster's service account issuer, and the subject AKS gives a pod's account.
ISSUER = "https://oidc.cluster.test/3f1c0a52/"
SUBJECT = "system:serviceaccount:restore:graphrestore"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass
class Federation:
    """An emulator whose Entra trusts ISSUER (its key below), and an app with a federated
    identity credential for SUBJECT."""

    emulator: Emulator
    key: rsa.RSAPrivateKey
    key_id: str
    client_id: str

    def token(self, **claims: object) -> str:
        """A service account token as the cluster would project it into the pod."""
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "sub": SUBJECT,
            "aud": [EXCHANGE_AUDIENCE],
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.key_id})

    def env(self, token_file: Path) -> dict[str, str]:
        env = self.emulator.gateway_env()
        del env["GRAPHRESTORE_CLIENT_SECRET_FILE"]
        return {
            **env,
            "GRAPHRESTORE_CLIENT_ID": self.client_id,
            "GRAPHRESTORE_CREDENTIAL": "federated",
            "GRAPHRESTORE_FEDERATED_TOKEN_FILE": str(token_file),
        }


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    folder = tmp_path_factory.mktemp("federation")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = uuid.uuid4().hex
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks_file = folder / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [{**jwk, "kid": key_id, "use": "sig"}]}))
    args = ("--federation-issuer", ISSUER, "--federation-jwks", str(jwks_file))
    with running_emulator(folder / "emulator", *args) as emulator:
        body = {"federated_issuer": ISSUER, "federated_subject": SUBJECT}
        app = emulator.control.post("/_emulator/apps", json=body).json()
        yield Federation(emulator, key, key_id, app["client_id"])


def health_of(gateway: Gateway) -> int:
    with grpc.insecure_channel(gateway.address) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    return int(answer.status)


def refused(stub: service_grpc.OneDriveRestoreServiceStub) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("rp-refused"), timeout=10)
    return failure.value


SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def test_workload_identity_gets_graph_tokens_with_the_projected_token(
    federation: Federation, tmp_path: Path
) -> None:
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(federation.token())
    with own_gateway(federation.env(token_file)) as (_, stub):
        session = stub.CreateRestoreSession(create_request("rp-wif"), timeout=10)
    assert emulator_app_of(federation.emulator, session.id) == federation.client_id


def test_a_rotated_token_file_is_read_at_the_next_token_request(
    federation: Federation, tmp_path: Path
) -> None:
    """A refused token makes the gateway not ready, without a crash; the background retry
    reads the file again, and a good token there makes it ready again."""
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(federation.token())
    with own_gateway(federation.env(token_file)) as (gateway, stub):
        assert stub.CreateRestoreSession(create_request("rp-rotate-1"), timeout=10).id
        # The cluster rotates the file (here: to a token of another issuer), and Graph
        # turns the current access token down: the next token request reads the new file.
        token_file.write_text(federation.token(iss="https://elsewhere.test/"))
        federation.emulator.fault(
            kind="status",
            method="POST",
            path="oneDriveForBusinessRestoreSessions$",
            status=401,
            code="InvalidAuthenticationToken",
        )
        failure = refused(stub)
        assert failure.code() == grpc.StatusCode.INTERNAL
        assert error_info(failure).reason == "INVALID_CLIENT"
        assert "AADSTS700211" in failure.details()
        assert health_of(gateway) == NOT_SERVING
        token_file.write_text(federation.token())
        assert wait_for(lambda: health_of(gateway) == SERVING, within_s=20)
        assert stub.CreateRestoreSession(create_request("rp-rotate-2"), timeout=10).id
        assert gateway.process.poll() is None


@pytest.mark.parametrize(
    ("case", "aadsts"),
    [("wrong issuer", "AADSTS700211"), ("wrong signature", "AADSTS700027")],
)
def test_an_assertion_entra_cannot_verify_is_refused_and_the_gateway_not_ready(
    federation: Federation, tmp_path: Path, case: str, aadsts: str
) -> None:
    if case == "wrong issuer":
        token = federation.token(iss="https://attacker.test/")
    else:
        # Same issuer and key id, signed by a key the issuer never published.
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        claims = jwt.decode(federation.token(), options={"verify_signature": False})
        token = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": federation.key_id})
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(token)
    with own_gateway(federation.env(token_file)) as (gateway, stub):
        # Not ready from the start (the first token is asked for then), before any call.
        assert wait_for(lambda: health_of(gateway) == NOT_SERVING, within_s=10)
        requests_before = token_requests(federation.emulator)
        failures = [refused(stub) for _ in range(5)]
        assert {f.code() for f in failures} == {grpc.StatusCode.INTERNAL}
        assert {error_info(f).reason for f in failures} == {"INVALID_CLIENT"}
        assert aadsts in failures[0].details()
        # Failing fast until the next try comes by itself: not a token request per call.
        assert token_requests(federation.emulator) - requests_before <= 1
        assert gateway.process.poll() is None


def test_aks_workload_identity_variable_names_work_alone(
    federation: Federation, tmp_path: Path
) -> None:
    """What AKS's webhook injects, and nothing else of the gateway's app (the authority host
    as AKS writes it, with a trailing slash)."""
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(federation.token())
    info = federation.emulator.info
    env = {
        "GRAPHRESTORE_AUTH": "none",
        "GRAPHRESTORE_GRAPH_URL": info["graph_url"],
        "GRAPHRESTORE_CA_FILE": info["ca_file"],
        "AZURE_CLIENT_ID": federation.client_id,
        "AZURE_TENANT_ID": info["tenant_id"],
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AZURE_AUTHORITY_HOST": info["authority_host"] + "/",
    }
    with own_gateway(env) as (_, stub):
        session = stub.CreateRestoreSession(create_request("rp-aks"), timeout=10)
    assert emulator_app_of(federation.emulator, session.id) == federation.client_id


def managed_identity_env(emulator: Emulator, **extra: str) -> dict[str, str]:
    """What App Service sets (IDENTITY_ENDPOINT, IDENTITY_HEADER) and no app credential."""
    env = emulator.gateway_env()
    del env["GRAPHRESTORE_CLIENT_SECRET_FILE"], env["GRAPHRESTORE_CLIENT_ID"]
    return {
        **env,
        "GRAPHRESTORE_CREDENTIAL": "managed-identity",
        "IDENTITY_ENDPOINT": emulator.info["identity_endpoint"],
        "IDENTITY_HEADER": Path(emulator.info["identity_header_file"]).read_text(),
        **extra,
    }


def test_the_system_assigned_managed_identity_creates_sessions(emulator: Emulator) -> None:
    env = managed_identity_env(emulator)
    with own_gateway(env) as (gateway, stub):
        session = stub.CreateRestoreSession(create_request("rp-msi"), timeout=10)
    assert emulator_app_of(emulator, session.id) == emulator.info["managed_identity_client_id"]
    assert env["IDENTITY_HEADER"] not in gateway.everything_written()


def test_a_user_assigned_managed_identity_is_named_by_azure_client_id(
    emulator: Emulator,
) -> None:
    identity = emulator.control.post("/_emulator/apps", json={"managed_identity": True}).json()
    env = managed_identity_env(emulator, AZURE_CLIENT_ID=identity["client_id"])
    with own_gateway(env) as (_, stub):
        session = stub.CreateRestoreSession(create_request("rp-uami"), timeout=10)
    assert emulator_app_of(emulator, session.id) == identity["client_id"]


def test_a_wrong_identity_header_is_refused_and_the_gateway_not_ready(
    emulator: Emulator,
) -> None:
    env = managed_identity_env(emulator, IDENTITY_HEADER=secrets.token_urlsafe(32))
    with own_gateway(env) as (gateway, stub):
        assert wait_for(lambda: health_of(gateway) == NOT_SERVING, within_s=10)
        failure = refused(stub)
        assert failure.code() == grpc.StatusCode.INTERNAL
        assert "401, The X-IDENTITY-HEADER is missing or wrong" in failure.details()
        assert gateway.process.poll() is None


@pytest.fixture
def redis_password() -> str:
    """A password made up for this test."""
    return secrets.token_urlsafe(24)


def test_the_redis_password_comes_from_its_file(
    emulator: Emulator, tmp_path: Path, redis_password: str
) -> None:
    password_file = tmp_path / "redis-password"
    password_file.write_text(redis_password + "\n")
    with running_redis(tmp_path, password=redis_password) as url:
        env = {
            **emulator.gateway_env(),
            "GRAPHRESTORE_REDIS_URL": url,
            "GRAPHRESTORE_REDIS_PASSWORD_FILE": str(password_file),
        }
        with own_gateway(env) as (gateway, stub):
            request = create_request("rp-redis-password")
            first = stub.CreateRestoreSession(request, timeout=10)
            # The retry is answered from the request record kept in Redis.
            assert stub.CreateRestoreSession(request, timeout=10).id == first.id
            assert health_of(gateway) == SERVING
    assert redis_password not in gateway.everything_written()


def federated_token_request(federation: Federation, assertion: str) -> tuple[int, str, str]:
    """(status, error, AADSTS code) of the emulator's Entra for a federated assertion."""
    answer = federation.emulator.control.post(
        f"/{federation.emulator.info['tenant_id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": federation.client_id,
            "scope": "https://graph.microsoft.com/.default",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    if answer.status_code == 200:
        return 200, "", ""
    body = answer.json()
    return answer.status_code, body["error"], body["error_description"].split(":")[0]


def test_entra_checks_each_part_of_a_federated_assertion(federation: Federation) -> None:
    """As strict as Entra, with its codes: issuer, key, signature, audience, time, subject."""
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(federation.token(), options={"verify_signature": False})
    now = int(time.time())
    cases = {
        "good": (federation.token(), (200, "", "")),
        "issuer": (
            federation.token(iss="https://other.test/"),
            (401, "invalid_client", "AADSTS700211"),
        ),
        "unknown key": (
            jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "rotated-away"}),
            (401, "invalid_client", "AADSTS7000272"),
        ),
        "signature": (
            jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": federation.key_id}),
            (401, "invalid_client", "AADSTS700027"),
        ),
        "audience": (
            federation.token(aud="api://graphrestore"),
            (401, "invalid_client", "AADSTS700212"),
        ),
        "expired": (
            federation.token(iat=now - 7200, nbf=now - 7200, exp=now - 3600),
            (401, "invalid_client", "AADSTS700024"),
        ),
        "subject": (
            federation.token(sub="system:serviceaccount:default:other"),
            (401, "invalid_client", "AADSTS700213"),
        ),
        "malformed": ("not-a-jwt", (400, "invalid_request", "AADSTS50027")),
    }
    answers = {
        name: federated_token_request(federation, token) for name, (token, _) in cases.items()
    }
    assert answers == {name: expected for name, (_, expected) in cases.items()}


def test_an_untrusted_issuer_cannot_be_registered(federation: Federation) -> None:
    body = {"federated_issuer": "https://not-trusted.test/", "federated_subject": SUBJECT}
    assert federation.emulator.control.post("/_emulator/apps", json=body).status_code == 400


def test_the_managed_identity_endpoint_refuses_what_app_service_refuses(
    emulator: Emulator,
) -> None:
    header = Path(emulator.info["identity_header_file"]).read_text()
    endpoint = emulator.info["identity_endpoint"].removeprefix(emulator.info["graph_url"])
    good = {"resource": "https://graph.microsoft.com", "api-version": "2019-08-01"}
    not_an_identity = emulator.control.post("/_emulator/apps", json={}).json()["client_id"]

    def status(params: dict[str, str], headers: dict[str, str]) -> int:
        return emulator.control.get(endpoint, params=params, headers=headers).status_code

    ok = emulator.control.get(endpoint, params=good, headers={"X-IDENTITY-HEADER": header})
    assert ok.status_code == 200
    token = ok.json()
    assert set(token) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    assert int(token["expires_on"]) > time.time()
    assert token["client_id"] == emulator.info["managed_identity_client_id"]
    assert status(good, {}) == 401
    assert status(good, {"X-IDENTITY-HEADER": header + "x"}) == 401
    with_header = {"X-IDENTITY-HEADER": header}
    assert status(good | {"resource": "https://management.azure.com"}, with_header) == 400
    assert status(good | {"api-version": "2017-09-01"}, with_header) == 400
    assert status(good | {"client_id": not_an_identity}, with_header) == 400


def test_a_token_file_gone_at_a_token_request_is_a_token_failure_not_a_crash(
    tmp_path: Path,
) -> None:
    """The platform swaps the file by renaming; one that cannot be read is a failed token
    request (health follows, the retry comes by itself), told without the file's content."""
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text("eyJ.first.token\n")
    credential = msal_credential(FederatedToken(token_file))
    assert isinstance(credential, dict)
    assertion = credential["client_assertion"]
    assert assertion() == "eyJ.first.token"
    token_file.write_text("eyJ.rotated.token")
    assert assertion() == "eyJ.rotated.token"
    token_file.unlink()
    with pytest.raises(GraphError) as failure:
        assertion()
    assert (failure.value.code, failure.value.source) == (FEDERATED_TOKEN_UNREADABLE, "entra")
