"""A missing or bad setting stops the gateway at start: exit 2, one line naming the variable.
And how settings are read: the credential chosen, AKS's names, secrets from files."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from graphrestore_gateway.config import (
    ClientCertificate,
    ClientSecret,
    ConfigError,
    FederatedToken,
    ManagedIdentity,
    Settings,
    load_settings,
)
from processes import BIN, Emulator, clean_env
from test_tokens import self_signed_pem


def run_gateway(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "graphrestore-gateway")],
        env=clean_env({"GRAPHRESTORE_LISTEN": "127.0.0.1:0", **env}),
        capture_output=True,
        text=True,
        timeout=30,
    )


def bad_settings(
    emulator: Emulator, tmp_path: Path
) -> dict[str, tuple[dict[str, str | None], str]]:
    empty = tmp_path / "empty"
    empty.write_text("")
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    return {
        "no tenant": ({"GRAPHRESTORE_TENANT_ID": None}, "GRAPHRESTORE_TENANT_ID"),
        "bad tenant": ({"GRAPHRESTORE_TENANT_ID": "a/b"}, "GRAPHRESTORE_TENANT_ID"),
        "no client id": ({"GRAPHRESTORE_CLIENT_ID": None}, "GRAPHRESTORE_CLIENT_ID"),
        "client id not a guid": ({"GRAPHRESTORE_CLIENT_ID": "app"}, "GRAPHRESTORE_CLIENT_ID"),
        "no credential": (
            {"GRAPHRESTORE_CLIENT_SECRET_FILE": None},
            "GRAPHRESTORE_CREDENTIAL",
        ),
        "two credentials": (
            {"GRAPHRESTORE_CLIENT_CERT_FILE": str(not_pem)},
            "GRAPHRESTORE_CREDENTIAL",
        ),
        "credential unknown": (
            {"GRAPHRESTORE_CREDENTIAL": "password"},
            "GRAPHRESTORE_CREDENTIAL",
        ),
        "chosen credential without its file": (
            {"GRAPHRESTORE_CREDENTIAL": "certificate"},
            "GRAPHRESTORE_CLIENT_CERT_FILE",
        ),
        "redis url with a password": (
            {"GRAPHRESTORE_REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0"},
            "GRAPHRESTORE_REDIS_URL",
        ),
        "redis password file missing": (
            {"GRAPHRESTORE_REDIS_PASSWORD_FILE": str(tmp_path / "nope")},
            "GRAPHRESTORE_REDIS_PASSWORD_FILE",
        ),
        "secret file missing": (
            {"GRAPHRESTORE_CLIENT_SECRET_FILE": str(tmp_path / "nope")},
            "GRAPHRESTORE_CLIENT_SECRET_FILE",
        ),
        "secret file empty": (
            {"GRAPHRESTORE_CLIENT_SECRET_FILE": str(empty)},
            "GRAPHRESTORE_CLIENT_SECRET_FILE",
        ),
        "cert not pem": (
            {
                "GRAPHRESTORE_CLIENT_SECRET_FILE": None,
                "GRAPHRESTORE_CLIENT_CERT_FILE": str(not_pem),
            },
            "GRAPHRESTORE_CLIENT_CERT_FILE",
        ),
        "listen not host:port": ({"GRAPHRESTORE_LISTEN": "50051"}, "GRAPHRESTORE_LISTEN"),
        "page token key too short": (
            {"GRAPHRESTORE_PAGE_TOKEN_KEY_FILE": str(not_pem)},
            "GRAPHRESTORE_PAGE_TOKEN_KEY_FILE",
        ),
        "watch cap not a number": (
            {"GRAPHRESTORE_MAX_WATCHES_PER_CALLER": "many"},
            "GRAPHRESTORE_MAX_WATCHES_PER_CALLER",
        ),
        "auth unknown": ({"GRAPHRESTORE_AUTH": "magic"}, "GRAPHRESTORE_AUTH"),
        "auth none off loopback": (
            {"GRAPHRESTORE_LISTEN": "0.0.0.0:0"},
            "GRAPHRESTORE_AUTH",
        ),
        "graph url plain http": (
            {"GRAPHRESTORE_GRAPH_URL": "http://graph.microsoft.com"},
            "GRAPHRESTORE_GRAPH_URL",
        ),
        "authority with path": (
            {"GRAPHRESTORE_AUTHORITY_HOST": "https://login.microsoftonline.com/common"},
            "GRAPHRESTORE_AUTHORITY_HOST",
        ),
        "ca file not pem": ({"GRAPHRESTORE_CA_FILE": str(not_pem)}, "GRAPHRESTORE_CA_FILE"),
    }


# Made up here; it must never be echoed back.
REDIS_PASSWORD = uuid.uuid4().hex

CASES = [
    "no tenant",
    "bad tenant",
    "no client id",
    "client id not a guid",
    "no credential",
    "two credentials",
    "credential unknown",
    "chosen credential without its file",
    "redis url with a password",
    "redis password file missing",
    "secret file missing",
    "secret file empty",
    "cert not pem",
    "listen not host:port",
    "auth unknown",
    "auth none off loopback",
    "graph url plain http",
    "authority with path",
    "ca file not pem",
]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_setting_exits_2_naming_the_variable(
    emulator: Emulator, tmp_path: Path, case: str
) -> None:
    changes, variable = bad_settings(emulator, tmp_path)[case]
    env = emulator.gateway_env()
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    result = run_gateway(env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"graphrestore-gateway: {variable}: ")
    assert REDIS_PASSWORD not in result.stderr


TENANT = str(uuid.uuid4())
CLIENT = str(uuid.uuid4())


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """A secret, a certificate, a federated token and a Redis password, each in its file."""
    (tmp_path / "secret").write_text("s3cret-value\n")
    (tmp_path / "cert.pem").write_bytes(self_signed_pem())
    (tmp_path / "token").write_text("eyJ.projected.token")
    (tmp_path / "redis-password").write_text("redis-pw-value\n")
    names = ("secret", "cert.pem", "token", "redis-password")
    return {name: str(tmp_path / name) for name in names}


def load(tmp_path: Path, **environ: str) -> Settings:
    return load_settings({"GRAPHRESTORE_STATE_DIR": str(tmp_path / "state"), **environ})


def test_the_one_credential_file_set_decides_without_the_setting(
    tmp_path: Path, files: dict[str, str]
) -> None:
    ids = {"GRAPHRESTORE_TENANT_ID": TENANT, "GRAPHRESTORE_CLIENT_ID": CLIENT}
    secret = load(tmp_path, **ids, GRAPHRESTORE_CLIENT_SECRET_FILE=files["secret"])
    assert isinstance(secret.credential, ClientSecret)
    assert secret.credential.value.reveal() == "s3cret-value"
    certificate = load(tmp_path, **ids, GRAPHRESTORE_CLIENT_CERT_FILE=files["cert.pem"])
    assert isinstance(certificate.credential, ClientCertificate)
    federated = load(tmp_path, **ids, AZURE_FEDERATED_TOKEN_FILE=files["token"])
    assert federated.credential == FederatedToken(Path(files["token"]))


def test_two_credential_files_need_the_setting_which_then_decides(
    tmp_path: Path, files: dict[str, str]
) -> None:
    """AKS's webhook mounts a token file in every pod it labels: with a certificate set
    too, the gateway does not guess."""
    environ = {
        "GRAPHRESTORE_TENANT_ID": TENANT,
        "GRAPHRESTORE_CLIENT_ID": CLIENT,
        "GRAPHRESTORE_CLIENT_CERT_FILE": files["cert.pem"],
        "AZURE_FEDERATED_TOKEN_FILE": files["token"],
    }
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, **environ)
    assert refused.value.variable == "GRAPHRESTORE_CREDENTIAL"
    chosen = load(tmp_path, **environ, GRAPHRESTORE_CREDENTIAL="certificate")
    assert isinstance(chosen.credential, ClientCertificate)


def test_aks_names_are_read_when_the_gateways_own_are_unset(
    tmp_path: Path, files: dict[str, str]
) -> None:
    aks = {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_FEDERATED_TOKEN_FILE": files["token"],
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
    }
    settings = load(tmp_path, **aks)
    assert (settings.tenant_id, settings.client_id) == (TENANT, CLIENT)
    assert settings.credential == FederatedToken(Path(files["token"]))
    assert settings.authority == f"https://login.microsoftonline.com/{TENANT}"
    without_slash = load(tmp_path, **aks | {"AZURE_AUTHORITY_HOST": "https://login.example"})
    assert without_slash.authority == f"https://login.example/{TENANT}"


def test_the_gateways_own_names_win_over_aks_names(tmp_path: Path, files: dict[str, str]) -> None:
    other_tenant, other_client = str(uuid.uuid4()), str(uuid.uuid4())
    settings = load(
        tmp_path,
        AZURE_TENANT_ID=other_tenant,
        AZURE_CLIENT_ID=other_client,
        AZURE_AUTHORITY_HOST="https://elsewhere.example/",
        AZURE_FEDERATED_TOKEN_FILE=str(tmp_path / "missing"),
        GRAPHRESTORE_TENANT_ID=TENANT,
        GRAPHRESTORE_CLIENT_ID=CLIENT,
        GRAPHRESTORE_AUTHORITY_HOST="https://login.microsoftonline.us",
        GRAPHRESTORE_FEDERATED_TOKEN_FILE=files["token"],
    )
    assert (settings.tenant_id, settings.client_id) == (TENANT, CLIENT)
    assert settings.authority_host == "https://login.microsoftonline.us"
    assert settings.credential == FederatedToken(Path(files["token"]))


def test_a_bad_aks_value_is_named_as_aks_named_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load(
            tmp_path,
            GRAPHRESTORE_TENANT_ID=TENANT,
            GRAPHRESTORE_CREDENTIAL="managed-identity",
            AZURE_CLIENT_ID="not-a-guid",
        )
    assert refused.value.variable == "AZURE_CLIENT_ID"


def test_managed_identity_needs_no_client_id_and_takes_one_for_a_user_assigned_one(
    tmp_path: Path,
) -> None:
    system = load(
        tmp_path, GRAPHRESTORE_TENANT_ID=TENANT, GRAPHRESTORE_CREDENTIAL="managed-identity"
    )
    assert system.credential == ManagedIdentity()
    assert system.client_id is None
    user = load(
        tmp_path,
        GRAPHRESTORE_TENANT_ID=TENANT,
        GRAPHRESTORE_CREDENTIAL="managed-identity",
        AZURE_CLIENT_ID=CLIENT,
    )
    assert user.client_id == CLIENT


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2@redis:6379/0",
        "rediss://graphrestore:hunter2@redis:6380/0",
        "redis://redis:6379/0?password=hunter2",
    ],
)
def test_a_redis_url_holding_a_password_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(
            tmp_path,
            GRAPHRESTORE_TENANT_ID=TENANT,
            GRAPHRESTORE_CREDENTIAL="managed-identity",
            GRAPHRESTORE_REDIS_URL=url,
        )
    assert refused.value.variable == "GRAPHRESTORE_REDIS_URL"
    assert "GRAPHRESTORE_REDIS_PASSWORD_FILE" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_secrets_are_read_from_files_and_never_shown(tmp_path: Path, files: dict[str, str]) -> None:
    settings = load(
        tmp_path,
        GRAPHRESTORE_TENANT_ID=TENANT,
        GRAPHRESTORE_CLIENT_ID=CLIENT,
        GRAPHRESTORE_CLIENT_SECRET_FILE=files["secret"],
        GRAPHRESTORE_REDIS_URL="redis://graphrestore@redis:6379/0",
        GRAPHRESTORE_REDIS_PASSWORD_FILE=files["redis-password"],
    )
    assert settings.redis_password is not None
    assert settings.redis_password.reveal() == "redis-pw-value"
    assert "redis-pw-value" not in repr(settings)
    assert "s3cret-value" not in repr(settings)
