"""Settings (config.py): each setting's bad value is refused at start with a message that
names the variable, and never quotes a secret; good values are read as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphrestore_gateway.config import (
    ClientSecret,
    ConfigError,
    ManagedIdentity,
    load_settings,
)

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "6f1f2d3c-0a1b-4c2d-8e3f-4a5b6c7d8e9f"


def base(files: dict[str, str]) -> dict[str, str]:
    """The least a gateway starts with: auth none on loopback and a client secret."""
    return {
        "GRAPHRESTORE_TENANT_ID": TENANT,
        "GRAPHRESTORE_CLIENT_ID": CLIENT_ID,
        "GRAPHRESTORE_CLIENT_SECRET_FILE": files["secret"],
        "GRAPHRESTORE_STATE_DIR": files["state"],
    }


def mtls(files: dict[str, str]) -> dict[str, str]:
    return {
        **base(files),
        "GRAPHRESTORE_AUTH": "mtls",
        "GRAPHRESTORE_LISTEN": "0.0.0.0:50051",
        "GRAPHRESTORE_TLS_CERT_FILE": files["server-cert"],
        "GRAPHRESTORE_TLS_KEY_FILE": files["server-key"],
        "GRAPHRESTORE_CLIENT_CA_FILE": files["ca"],
        "GRAPHRESTORE_POLICY_FILE": files["policy"],
    }


def jwt(files: dict[str, str]) -> dict[str, str]:
    settings = {
        **mtls(files),
        "GRAPHRESTORE_AUTH": "jwt",
        "GRAPHRESTORE_JWT_JWKS_URL": "https://idp.corp/jwks",
        "GRAPHRESTORE_JWT_ISSUER": "https://idp.corp",
        "GRAPHRESTORE_JWT_AUDIENCE": "graphrestore",
    }
    del settings["GRAPHRESTORE_CLIENT_CA_FILE"]
    return settings


PROFILES = {"none": base, "mtls": mtls, "jwt": jwt}


@pytest.mark.parametrize("profile", PROFILES)
def test_each_auth_modes_least_settings_load(profile: str, gateway_files: dict[str, str]) -> None:
    settings = load_settings(PROFILES[profile](gateway_files))
    assert settings.auth == profile
    assert isinstance(settings.credential, ClientSecret)
    assert settings.credential.value.reveal() == "client-secret-value"
    assert "client-secret-value" not in repr(settings)


# (profile, variable set: value (a key of gateway_files, or the value itself; None
# unsets it), the variable the error names)
BAD = {
    "listen without a port": ("none", {"GRAPHRESTORE_LISTEN": "127.0.0.1"}, "GRAPHRESTORE_LISTEN"),
    "listen port not a number": (
        "none",
        {"GRAPHRESTORE_LISTEN": "127.0.0.1:http"},
        "GRAPHRESTORE_LISTEN",
    ),
    "listen port too big": (
        "none",
        {"GRAPHRESTORE_LISTEN": "127.0.0.1:65536"},
        "GRAPHRESTORE_LISTEN",
    ),
    "listen without a host": ("none", {"GRAPHRESTORE_LISTEN": ":50051"}, "GRAPHRESTORE_LISTEN"),
    "auth unknown": ("none", {"GRAPHRESTORE_AUTH": "basic"}, "GRAPHRESTORE_AUTH"),
    "auth none on all addresses": (
        "none",
        {"GRAPHRESTORE_LISTEN": "0.0.0.0:1"},
        "GRAPHRESTORE_AUTH",
    ),
    "auth none on a host name": ("none", {"GRAPHRESTORE_LISTEN": "gateway:1"}, "GRAPHRESTORE_AUTH"),
    "tenant missing": ("none", {"GRAPHRESTORE_TENANT_ID": None}, "GRAPHRESTORE_TENANT_ID"),
    "tenant blank": ("none", {"GRAPHRESTORE_TENANT_ID": "  "}, "GRAPHRESTORE_TENANT_ID"),
    "tenant with a slash": ("none", {"GRAPHRESTORE_TENANT_ID": "a/b"}, "GRAPHRESTORE_TENANT_ID"),
    "tenant starting with a dot": (
        "none",
        {"GRAPHRESTORE_TENANT_ID": ".x"},
        "GRAPHRESTORE_TENANT_ID",
    ),
    "client id missing": ("none", {"GRAPHRESTORE_CLIENT_ID": None}, "GRAPHRESTORE_CLIENT_ID"),
    "client id not a guid": (
        "none",
        {"GRAPHRESTORE_CLIENT_ID": "my-app"},
        "GRAPHRESTORE_CLIENT_ID",
    ),
    "credential unknown": (
        "none",
        {"GRAPHRESTORE_CREDENTIAL": "password"},
        "GRAPHRESTORE_CREDENTIAL",
    ),
    "no credential file": (
        "none",
        {"GRAPHRESTORE_CLIENT_SECRET_FILE": None},
        "GRAPHRESTORE_CREDENTIAL",
    ),
    "two credential files": (
        "none",
        {"GRAPHRESTORE_FEDERATED_TOKEN_FILE": "secret"},
        "GRAPHRESTORE_CREDENTIAL",
    ),
    "certificate chosen, no file": (
        "none",
        {"GRAPHRESTORE_CREDENTIAL": "certificate"},
        "GRAPHRESTORE_CLIENT_CERT_FILE",
    ),
    "federated chosen, file missing": (
        "none",
        {"GRAPHRESTORE_CREDENTIAL": "federated", "GRAPHRESTORE_FEDERATED_TOKEN_FILE": "missing"},
        "GRAPHRESTORE_FEDERATED_TOKEN_FILE",
    ),
    "secret file missing": (
        "none",
        {"GRAPHRESTORE_CLIENT_SECRET_FILE": "missing"},
        "GRAPHRESTORE_CLIENT_SECRET_FILE",
    ),
    "secret file empty": (
        "none",
        {"GRAPHRESTORE_CLIENT_SECRET_FILE": "empty"},
        "GRAPHRESTORE_CLIENT_SECRET_FILE",
    ),
    "certificate not pem": (
        "none",
        {"GRAPHRESTORE_CLIENT_SECRET_FILE": None, "GRAPHRESTORE_CLIENT_CERT_FILE": "not-pem"},
        "GRAPHRESTORE_CLIENT_CERT_FILE",
    ),
    "certificate without its key": (
        "none",
        {"GRAPHRESTORE_CLIENT_SECRET_FILE": None, "GRAPHRESTORE_CLIENT_CERT_FILE": "server-cert"},
        "GRAPHRESTORE_CLIENT_CERT_FILE",
    ),
    "x5c flag not a boolean": (
        "none",
        {
            "GRAPHRESTORE_CLIENT_SECRET_FILE": None,
            "GRAPHRESTORE_CLIENT_CERT_FILE": "client-cert",
            "GRAPHRESTORE_CLIENT_CERT_SEND_X5C": "yes",
        },
        "GRAPHRESTORE_CLIENT_CERT_SEND_X5C",
    ),
    "graph url plain http": (
        "none",
        {"GRAPHRESTORE_GRAPH_URL": "http://graph.microsoft.com"},
        "GRAPHRESTORE_GRAPH_URL",
    ),
    "graph url with a path": (
        "none",
        {"GRAPHRESTORE_GRAPH_URL": "https://graph.microsoft.com/v1.0"},
        "GRAPHRESTORE_GRAPH_URL",
    ),
    "graph url with a query": (
        "none",
        {"GRAPHRESTORE_GRAPH_URL": "https://g.example?x=1"},
        "GRAPHRESTORE_GRAPH_URL",
    ),
    "authority with a tenant path": (
        "none",
        {"GRAPHRESTORE_AUTHORITY_HOST": "https://login.microsoftonline.com/common"},
        "GRAPHRESTORE_AUTHORITY_HOST",
    ),
    "authority without a host": (
        "none",
        {"GRAPHRESTORE_AUTHORITY_HOST": "https://"},
        "GRAPHRESTORE_AUTHORITY_HOST",
    ),
    "ca file missing": ("none", {"GRAPHRESTORE_CA_FILE": "missing"}, "GRAPHRESTORE_CA_FILE"),
    "ca file not pem": ("none", {"GRAPHRESTORE_CA_FILE": "not-pem"}, "GRAPHRESTORE_CA_FILE"),
    "state dir a file": ("none", {"GRAPHRESTORE_STATE_DIR": "secret"}, "GRAPHRESTORE_STATE_DIR"),
    "audit file in a missing folder": (
        "none",
        {"GRAPHRESTORE_AUDIT_FILE": "missing/audit.jsonl"},
        "GRAPHRESTORE_AUDIT_FILE",
    ),
    "redis url of another scheme": (
        "none",
        {"GRAPHRESTORE_REDIS_URL": "http://redis:6379"},
        "GRAPHRESTORE_REDIS_URL",
    ),
    "redis url with a password": (
        "none",
        {"GRAPHRESTORE_REDIS_URL": "redis://:hunter2@redis:6379/0"},
        "GRAPHRESTORE_REDIS_URL",
    ),
    "redis url with a user and password": (
        "none",
        {"GRAPHRESTORE_REDIS_URL": "rediss://app:hunter2@redis:6380/0"},
        "GRAPHRESTORE_REDIS_URL",
    ),
    "redis url with a password in its query": (
        "none",
        {"GRAPHRESTORE_REDIS_URL": "redis://redis:6379/0?password=hunter2"},
        "GRAPHRESTORE_REDIS_URL",
    ),
    "redis password file missing": (
        "none",
        {"GRAPHRESTORE_REDIS_PASSWORD_FILE": "missing"},
        "GRAPHRESTORE_REDIS_PASSWORD_FILE",
    ),
    "redis timeout zero": (
        "none",
        {"GRAPHRESTORE_REDIS_TIMEOUT_S": "0"},
        "GRAPHRESTORE_REDIS_TIMEOUT_S",
    ),
    "graph rate below one": ("none", {"GRAPHRESTORE_GRAPH_RATE": "0.5"}, "GRAPHRESTORE_GRAPH_RATE"),
    "graph rate not a number": (
        "none",
        {"GRAPHRESTORE_GRAPH_RATE": "fast"},
        "GRAPHRESTORE_GRAPH_RATE",
    ),
    "graph rate nan": ("none", {"GRAPHRESTORE_GRAPH_RATE": "nan"}, "GRAPHRESTORE_GRAPH_RATE"),
    "graph burst negative": (
        "none",
        {"GRAPHRESTORE_GRAPH_BURST": "-5"},
        "GRAPHRESTORE_GRAPH_BURST",
    ),
    "watch cap not a number": (
        "none",
        {"GRAPHRESTORE_MAX_WATCHES_PER_CALLER": "many"},
        "GRAPHRESTORE_MAX_WATCHES_PER_CALLER",
    ),
    "refusal budget zero": (
        "none",
        {"GRAPHRESTORE_REFUSED_CALLS_PER_MINUTE": "0"},
        "GRAPHRESTORE_REFUSED_CALLS_PER_MINUTE",
    ),
    "page token key too short": (
        "none",
        {"GRAPHRESTORE_PAGE_TOKEN_KEY_FILE": "not-pem"},
        "GRAPHRESTORE_PAGE_TOKEN_KEY_FILE",
    ),
    "page token key missing": (
        "none",
        {"GRAPHRESTORE_PAGE_TOKEN_KEY_FILE": "missing"},
        "GRAPHRESTORE_PAGE_TOKEN_KEY_FILE",
    ),
    "metrics off loopback without tls": (
        "none",
        {"GRAPHRESTORE_METRICS_LISTEN": "0.0.0.0:9090"},
        "GRAPHRESTORE_METRICS_LISTEN",
    ),
    "metrics listen without a port": (
        "none",
        {"GRAPHRESTORE_METRICS_LISTEN": "127.0.0.1"},
        "GRAPHRESTORE_METRICS_LISTEN",
    ),
    "metrics client ca without tls": (
        "none",
        {
            "GRAPHRESTORE_METRICS_LISTEN": "127.0.0.1:9090",
            "GRAPHRESTORE_METRICS_CLIENT_CA_FILE": "ca",
        },
        "GRAPHRESTORE_METRICS_CLIENT_CA_FILE",
    ),
    "metrics client ca not pem": (
        "mtls",
        {
            "GRAPHRESTORE_METRICS_LISTEN": "0.0.0.0:9090",
            "GRAPHRESTORE_METRICS_CLIENT_CA_FILE": "not-pem",
        },
        "GRAPHRESTORE_METRICS_CLIENT_CA_FILE",
    ),
    "metrics off loopback with jwt and no client ca": (
        "jwt",
        {"GRAPHRESTORE_METRICS_LISTEN": "0.0.0.0:9090"},
        "GRAPHRESTORE_METRICS_CLIENT_CA_FILE",
    ),
    "health listen not host:port": (
        "none",
        {"GRAPHRESTORE_HEALTH_LISTEN": "8081"},
        "GRAPHRESTORE_HEALTH_LISTEN",
    ),
    "mtls without a server certificate": (
        "mtls",
        {"GRAPHRESTORE_TLS_CERT_FILE": None},
        "GRAPHRESTORE_TLS_CERT_FILE",
    ),
    "mtls without a server key": (
        "mtls",
        {"GRAPHRESTORE_TLS_KEY_FILE": None},
        "GRAPHRESTORE_TLS_KEY_FILE",
    ),
    "server key of another certificate": (
        "mtls",
        {"GRAPHRESTORE_TLS_KEY_FILE": "not-pem"},
        "GRAPHRESTORE_TLS_CERT_FILE",
    ),
    "mtls without a client ca": (
        "mtls",
        {"GRAPHRESTORE_CLIENT_CA_FILE": None},
        "GRAPHRESTORE_CLIENT_CA_FILE",
    ),
    "mtls client ca not pem": (
        "mtls",
        {"GRAPHRESTORE_CLIENT_CA_FILE": "not-pem"},
        "GRAPHRESTORE_CLIENT_CA_FILE",
    ),
    "mtls without a policy": (
        "mtls",
        {"GRAPHRESTORE_POLICY_FILE": None},
        "GRAPHRESTORE_POLICY_FILE",
    ),
    "policy file missing": (
        "mtls",
        {"GRAPHRESTORE_POLICY_FILE": "missing"},
        "GRAPHRESTORE_POLICY_FILE",
    ),
    "jwt without a policy": ("jwt", {"GRAPHRESTORE_POLICY_FILE": None}, "GRAPHRESTORE_POLICY_FILE"),
    "jwks over http": (
        "jwt",
        {"GRAPHRESTORE_JWT_JWKS_URL": "http://idp.corp/jwks"},
        "GRAPHRESTORE_JWT_JWKS_URL",
    ),
    "jwks missing": ("jwt", {"GRAPHRESTORE_JWT_JWKS_URL": None}, "GRAPHRESTORE_JWT_JWKS_URL"),
    "jwt issuer missing": ("jwt", {"GRAPHRESTORE_JWT_ISSUER": None}, "GRAPHRESTORE_JWT_ISSUER"),
    "jwt audience blank": ("jwt", {"GRAPHRESTORE_JWT_AUDIENCE": " "}, "GRAPHRESTORE_JWT_AUDIENCE"),
    "aks tenant alias bad": (
        "none",
        {"GRAPHRESTORE_TENANT_ID": None, "AZURE_TENANT_ID": "a b"},
        "AZURE_TENANT_ID",
    ),
    "aks client id alias bad": (
        "none",
        {"GRAPHRESTORE_CLIENT_ID": None, "AZURE_CLIENT_ID": "app"},
        "AZURE_CLIENT_ID",
    ),
    "aks authority alias bad": (
        "none",
        {"AZURE_AUTHORITY_HOST": "http://login.microsoftonline.com/"},
        "AZURE_AUTHORITY_HOST",
    ),
}


def settings_with(
    profile: str, changes: dict[str, str | None], files: dict[str, str]
) -> dict[str, str]:
    environ = PROFILES[profile](files)
    for name, value in changes.items():
        if value is None:
            environ.pop(name, None)
        elif value.split("/")[0] in files:
            first, _, rest = value.partition("/")
            environ[name] = files[first] + (f"/{rest}" if rest else "")
        else:
            environ[name] = value
    return environ


@pytest.mark.parametrize(("profile", "changes", "variable"), BAD.values(), ids=BAD.keys())
def test_a_bad_setting_is_refused_naming_its_variable(
    profile: str, changes: dict[str, str | None], variable: str, gateway_files: dict[str, str]
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(settings_with(profile, changes, gateway_files))
    assert refused.value.variable == variable
    message = str(refused.value)
    assert message.startswith(f"{variable}: ")
    assert "hunter2" not in message and "client-secret-value" not in message


@pytest.mark.parametrize(
    ("listen", "host", "port", "address"),
    [
        ("127.0.0.1:0", "127.0.0.1", 0, "127.0.0.1:0"),
        ("localhost:50051", "localhost", 50051, "localhost:50051"),
        ("[::1]:443", "::1", 443, "[::1]:443"),
        ("127.1.2.3:65535", "127.1.2.3", 65535, "127.1.2.3:65535"),
    ],
)
def test_loopback_addresses_serve_without_authentication(
    listen: str, host: str, port: int, address: str, gateway_files: dict[str, str]
) -> None:
    settings = load_settings({**base(gateway_files), "GRAPHRESTORE_LISTEN": listen})
    assert (settings.listen_host, settings.listen_port, settings.listen_address) == (
        host,
        port,
        address,
    )


def test_defaults_are_graphs_public_cloud_and_sqlite(gateway_files: dict[str, str]) -> None:
    settings = load_settings(base(gateway_files))
    assert settings.graph_url == "https://graph.microsoft.com"
    assert settings.authority == f"https://login.microsoftonline.com/{TENANT}"
    assert settings.redis_url is None and settings.state_dir == Path(gateway_files["state"])
    assert (settings.metrics_listen, settings.health_listen, settings.jwt) == (None, None, None)


def test_aks_names_are_read_and_a_trailing_slash_dropped(gateway_files: dict[str, str]) -> None:
    environ = {
        **base(gateway_files),
        "AZURE_TENANT_ID": "ignored.onmicrosoft.com",  # the gateway's own name wins
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us/",
    }
    del environ["GRAPHRESTORE_CLIENT_ID"]
    environ["AZURE_CLIENT_ID"] = CLIENT_ID
    settings = load_settings(environ)
    assert settings.tenant_id == TENANT and settings.client_id == CLIENT_ID
    assert settings.authority_host == "https://login.microsoftonline.us"


def test_managed_identity_needs_no_client_id(gateway_files: dict[str, str]) -> None:
    environ = {**base(gateway_files), "GRAPHRESTORE_CREDENTIAL": "managed-identity"}
    del environ["GRAPHRESTORE_CLIENT_ID"]
    settings = load_settings(environ)
    assert isinstance(settings.credential, ManagedIdentity) and settings.client_id is None


def test_off_loopback_metrics_with_mtls_ask_for_the_callers_ca(
    gateway_files: dict[str, str],
) -> None:
    environ = {**mtls(gateway_files), "GRAPHRESTORE_METRICS_LISTEN": "0.0.0.0:9090"}
    assert load_settings(environ).metrics_client_ca_file == Path(gateway_files["ca"])


@pytest.mark.parametrize(
    ("flag", "value"),
    [("", False), ("0", False), ("false", False), ("1", True), ("true", True), ("TRUE", True)],
)
def test_the_x5c_flag(flag: str, value: bool, gateway_files: dict[str, str]) -> None:
    environ = {**base(gateway_files), "GRAPHRESTORE_CLIENT_CERT_SEND_X5C": flag}
    del environ["GRAPHRESTORE_CLIENT_SECRET_FILE"]
    environ["GRAPHRESTORE_CLIENT_CERT_FILE"] = gateway_files["client-cert"]
    credential = load_settings(environ).credential
    assert credential.send_x5c is value
