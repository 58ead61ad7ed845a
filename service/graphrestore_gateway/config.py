"""Settings from GRAPHRESTORE_* variables, read and checked once at start."""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$")
CLIENT_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
AUTH_MODES = ("none", "mtls", "jwt")
CREDENTIALS = ("secret", "certificate", "federated", "managed-identity")
# The file each credential is read from; without GRAPHRESTORE_CREDENTIAL, the one set
# decides.
CREDENTIAL_FILES = {
    "secret": "GRAPHRESTORE_CLIENT_SECRET_FILE",
    "certificate": "GRAPHRESTORE_CLIENT_CERT_FILE",
    "federated": "GRAPHRESTORE_FEDERATED_TOKEN_FILE",
}
# What AKS workload identity's webhook sets in the pod, read when the GRAPHRESTORE_* name
# is unset (https://azure.github.io/azure-workload-identity/docs/quick-start.html).
AKS_ALIASES = {
    "GRAPHRESTORE_TENANT_ID": "AZURE_TENANT_ID",
    "GRAPHRESTORE_CLIENT_ID": "AZURE_CLIENT_ID",
    "GRAPHRESTORE_FEDERATED_TOKEN_FILE": "AZURE_FEDERATED_TOKEN_FILE",
    "GRAPHRESTORE_AUTHORITY_HOST": "AZURE_AUTHORITY_HOST",
}


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class Secret:
    """A credential that never shows itself in a repr, log line or traceback."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


@dataclass(frozen=True)
class ClientSecret:
    """The gateway's app credential as a client secret."""

    value: Secret


@dataclass(frozen=True)
class ClientCertificate:
    """The gateway's app credential as a certificate (PEM with key)."""

    private_key_pem: Secret
    certificate_pem: str
    sha1_thumbprint: str
    # Send the certificate chain (x5c) with the assertion, for subject-name/issuer auth.
    send_x5c: bool = False


@dataclass(frozen=True)
class FederatedToken:
    """Workload identity federation: a client assertion in a file the platform rotates,
    so it is read fresh for every token request."""

    token_file: Path


@dataclass(frozen=True)
class ManagedIdentity:
    """The platform's managed identity: user-assigned when Settings.client_id is set, else
    system-assigned. msal finds its endpoint in the variables the platform sets
    (IDENTITY_ENDPOINT and IDENTITY_HEADER on App Service, else IMDS)."""


Credential = ClientSecret | ClientCertificate | FederatedToken | ManagedIdentity


@dataclass(frozen=True)
class ServerTls:
    """The gateway's own TLS: its certificate, and for mtls the CA of its callers."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None


@dataclass(frozen=True)
class JwtCheck:
    """How bearer tokens of callers are checked (GRAPHRESTORE_AUTH=jwt)."""

    jwks_url: str
    issuer: str
    audience: str


@dataclass(frozen=True)
class Settings:
    listen_host: str
    listen_port: int
    auth: str
    tenant_id: str
    # The gateway's app registration; None only for a system-assigned managed identity.
    client_id: str | None
    credential: Credential
    authority_host: str
    graph_url: str
    ca_file: Path | None
    server_tls: ServerTls | None = None
    jwt: JwtCheck | None = None
    policy_file: Path | None = None
    audit_file: Path | None = None
    # Request records (idempotency): SQLite under state_dir, or Redis for several replicas.
    state_dir: Path = Path(".state")
    redis_url: str | None = None
    redis_password: Secret | None = None
    # Every Redis command and connection gives up after this: a hung Redis is answered
    # UNAVAILABLE soon, not at each caller's deadline.
    redis_timeout_s: float = 2.0
    # The tenant's Graph budget. No limit is published for this API: start moderate and
    # let 429s pause it.
    graph_rate_per_s: float = 100.0
    graph_burst: int = 200
    # The first wait before resending a failed Graph request that came with no
    # Retry-After (doubled on each retry): Microsoft's SDKs wait at least 3 s.
    graph_backoff_s: float = 3.0
    # How long Graph's restoreSessions lists may take to show a new session (eventually
    # consistent; Microsoft publishes no number: our assumption). A retry that finds no
    # trace of a session its interrupted create may have made looks once more this late.
    graph_list_lag_s: float = 10.0
    # HMAC key of page tokens; without it, one generated once and kept in the request store.
    page_token_key: Secret | None = None
    # Open WatchRestoreSession streams one caller may hold on one replica.
    max_watches_per_caller: int = 20
    # Refused calls (invalid, denied; unauthenticated per peer address) one caller may
    # have a minute, all at once at most; past it its calls are turned away unread.
    refused_calls_per_minute: float = 120.0
    # Prometheus metrics (HOST, PORT), off when None; TLS with the gateway's own files.
    metrics_listen: tuple[str, int] | None = None
    # The CA a scrape's client certificate must come from (None: none is asked for, on
    # loopback): its labels name every caller, so off loopback only a scraper sees them.
    metrics_client_ca_file: Path | None = None
    # OpenTelemetry: the OTLP/HTTP endpoint spans go to (the standard
    # OTEL_EXPORTER_OTLP_ENDPOINT), off when None.
    otlp_endpoint: str | None = None
    # A plaintext port serving grpc.health.v1 only (native Kubernetes gRPC probes cannot
    # present a client certificate), off when None.
    health_listen: tuple[str, int] | None = None

    @property
    def listen_address(self) -> str:
        host = f"[{self.listen_host}]" if ":" in self.listen_host else self.listen_host
        return f"{host}:{self.listen_port}"

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant_id}"


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build Settings from the environment; raise ConfigError on the first bad variable."""
    listen_host, listen_port = _listen(environ.get("GRAPHRESTORE_LISTEN", "127.0.0.1:50051"))
    auth = environ.get("GRAPHRESTORE_AUTH", "none")
    if auth not in AUTH_MODES:
        raise ConfigError(
            "GRAPHRESTORE_AUTH", f"must be one of {', '.join(AUTH_MODES)}, not {auth!r}"
        )
    if auth == "none" and not _is_loopback(listen_host):
        raise ConfigError(
            "GRAPHRESTORE_AUTH",
            f"'none' (no caller authentication) is only allowed on loopback, not {listen_host}",
        )
    tenant_variable, tenant_id = _aliased(environ, "GRAPHRESTORE_TENANT_ID")
    if not tenant_id:
        raise ConfigError(tenant_variable, "is required")
    if not TENANT_ID.match(tenant_id):
        raise ConfigError(tenant_variable, "must be a tenant GUID or domain name")
    credential_kind = _credential_kind(environ)
    client_variable, client_id = _aliased(environ, "GRAPHRESTORE_CLIENT_ID")
    if not client_id and credential_kind != "managed-identity":
        raise ConfigError(client_variable, "is required")
    if client_id and not CLIENT_ID.match(client_id):
        raise ConfigError(client_variable, "must be the application (client) id, a GUID")
    ca_file = environ.get("GRAPHRESTORE_CA_FILE", "")
    if ca_file:
        _check_ca_file(ca_file)
    server_tls = _server_tls(environ, auth)
    metrics_listen = _metrics_listen(environ, auth)
    return Settings(
        listen_host=listen_host,
        listen_port=listen_port,
        auth=auth,
        tenant_id=tenant_id,
        client_id=client_id or None,
        credential=_credential(environ, credential_kind),
        authority_host=_https_url(
            environ, "GRAPHRESTORE_AUTHORITY_HOST", "https://login.microsoftonline.com"
        ),
        graph_url=_https_url(environ, "GRAPHRESTORE_GRAPH_URL", "https://graph.microsoft.com"),
        ca_file=Path(ca_file) if ca_file else None,
        server_tls=server_tls,
        jwt=_jwt_check(environ) if auth == "jwt" else None,
        policy_file=_policy_file(environ, auth),
        audit_file=_writable(environ, "GRAPHRESTORE_AUDIT_FILE"),
        state_dir=_state_dir(environ),
        redis_url=_redis_url(environ),
        redis_password=_secret_file(environ, "GRAPHRESTORE_REDIS_PASSWORD_FILE"),
        redis_timeout_s=_positive(environ, "GRAPHRESTORE_REDIS_TIMEOUT_S", 2.0),
        graph_rate_per_s=_positive(environ, "GRAPHRESTORE_GRAPH_RATE", 100.0),
        graph_burst=int(_positive(environ, "GRAPHRESTORE_GRAPH_BURST", 200)),
        graph_backoff_s=_positive(environ, "GRAPHRESTORE_GRAPH_BACKOFF_S", 3.0, least=0.01),
        graph_list_lag_s=_positive(environ, "GRAPHRESTORE_GRAPH_LIST_LAG_S", 10.0, least=0.0),
        page_token_key=_page_token_key(environ),
        max_watches_per_caller=int(_positive(environ, "GRAPHRESTORE_MAX_WATCHES_PER_CALLER", 20)),
        refused_calls_per_minute=_positive(environ, "GRAPHRESTORE_REFUSED_CALLS_PER_MINUTE", 120.0),
        metrics_listen=metrics_listen,
        metrics_client_ca_file=_metrics_client_ca(environ, metrics_listen, server_tls),
        otlp_endpoint=environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        health_listen=_listen(environ["GRAPHRESTORE_HEALTH_LISTEN"], "GRAPHRESTORE_HEALTH_LISTEN")
        if environ.get("GRAPHRESTORE_HEALTH_LISTEN")
        else None,
    )


def _aliased(environ: Mapping[str, str], name: str) -> tuple[str, str]:
    """(the variable read, its value): `name`, or its AKS alias when `name` is unset."""
    alias = AKS_ALIASES.get(name)
    if not environ.get(name, "").strip() and alias and environ.get(alias, "").strip():
        name = alias
    return name, environ.get(name, "").strip()


def _credential_kind(environ: Mapping[str, str]) -> str:
    """GRAPHRESTORE_CREDENTIAL, or, without it, the credential whose file alone is set."""
    kind = environ.get("GRAPHRESTORE_CREDENTIAL", "")
    if kind:
        if kind not in CREDENTIALS:
            raise ConfigError(
                "GRAPHRESTORE_CREDENTIAL",
                f"must be one of {', '.join(CREDENTIALS)}, not {kind!r}",
            )
        return kind
    files_set = [k for k, name in CREDENTIAL_FILES.items() if _aliased(environ, name)[1]]
    if len(files_set) != 1:
        raise ConfigError(
            "GRAPHRESTORE_CREDENTIAL",
            f"is required when not exactly one of {', '.join(CREDENTIAL_FILES.values())} "
            f"is set ({len(files_set)} are)",
        )
    return files_set[0]


def _credential(environ: Mapping[str, str], kind: str) -> Credential:
    """The chosen credential, read from its file (the other credentials' are not read)."""
    if kind == "managed-identity":
        return ManagedIdentity()
    variable, path = _aliased(environ, CREDENTIAL_FILES[kind])
    if not path:
        raise ConfigError(variable, f"is required with GRAPHRESTORE_CREDENTIAL={kind}")
    if kind == "secret":
        return ClientSecret(_secret(path, variable))
    if kind == "certificate":
        return _certificate(path, _flag(environ, "GRAPHRESTORE_CLIENT_CERT_SEND_X5C"))
    _read(variable, path)
    return FederatedToken(Path(path))


def _secret_file(environ: Mapping[str, str], name: str) -> Secret | None:
    path = environ.get(name, "")
    return _secret(path, name) if path else None


def _metrics_listen(environ: Mapping[str, str], auth: str) -> tuple[str, int] | None:
    """Off when unset. Without the gateway's TLS (auth none), loopback only."""
    value = environ.get("GRAPHRESTORE_METRICS_LISTEN", "")
    if not value:
        return None
    host, port = _listen(value, "GRAPHRESTORE_METRICS_LISTEN")
    if auth == "none" and not _is_loopback(host):
        raise ConfigError(
            "GRAPHRESTORE_METRICS_LISTEN", "must be a loopback address without TLS (auth none)"
        )
    return host, port


def _metrics_client_ca(
    environ: Mapping[str, str], listen: tuple[str, int] | None, tls: ServerTls | None
) -> Path | None:
    """GRAPHRESTORE_METRICS_CLIENT_CA_FILE when set; off loopback, the callers' client CA
    without it (with jwt, there is none: then it must be set)."""
    name = "GRAPHRESTORE_METRICS_CLIENT_CA_FILE"
    path = environ.get(name, "")
    if path:
        if tls is None:
            raise ConfigError(name, "needs the gateway's TLS (GRAPHRESTORE_AUTH mtls or jwt)")
        _check_ca_file(path, name)
        return Path(path)
    if listen is None or _is_loopback(listen[0]) or tls is None:
        return None
    if tls.client_ca_file is None:
        raise ConfigError(
            name, "is required to serve metrics off loopback with GRAPHRESTORE_AUTH=jwt"
        )
    return tls.client_ca_file


def _page_token_key(environ: Mapping[str, str]) -> Secret | None:
    path = environ.get("GRAPHRESTORE_PAGE_TOKEN_KEY_FILE", "")
    if not path:
        return None
    key = _secret(path, "GRAPHRESTORE_PAGE_TOKEN_KEY_FILE")
    if len(key.reveal()) < 32:
        raise ConfigError("GRAPHRESTORE_PAGE_TOKEN_KEY_FILE", "must hold at least 32 characters")
    return key


def _positive(environ: Mapping[str, str], name: str, default: float, least: float = 1.0) -> float:
    raw = environ.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value >= least:
        raise ConfigError(name, f"must be a number of at least {least:g}, not {raw!r}")
    return value


def _state_dir(environ: Mapping[str, str]) -> Path:
    path = Path(environ.get("GRAPHRESTORE_STATE_DIR", ".state"))
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".writable"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            "GRAPHRESTORE_STATE_DIR", f"{path} is not writable: {exc.strerror}"
        ) from None
    return path


def _redis_url(environ: Mapping[str, str]) -> str | None:
    url = environ.get("GRAPHRESTORE_REDIS_URL", "")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError("GRAPHRESTORE_REDIS_URL", "must be a redis:// or rediss:// URL")
    # redis-py also takes a password from the query (?password=).
    if parts.password is not None or "password" in parse_qs(parts.query):
        raise ConfigError(
            "GRAPHRESTORE_REDIS_URL",
            "must not hold a password (secrets come only from files): "
            "put it in a file named by GRAPHRESTORE_REDIS_PASSWORD_FILE",
        )
    return url


def _server_tls(environ: Mapping[str, str], auth: str) -> ServerTls | None:
    if auth == "none":
        return None
    cert = _required(environ, "GRAPHRESTORE_TLS_CERT_FILE")
    key = _required(environ, "GRAPHRESTORE_TLS_KEY_FILE")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            "GRAPHRESTORE_TLS_CERT_FILE", f"{cert} and its key cannot be loaded: {exc}"
        ) from None
    client_ca = ""
    if auth == "mtls":
        client_ca = _required(environ, "GRAPHRESTORE_CLIENT_CA_FILE")
        _check_ca_file(client_ca, "GRAPHRESTORE_CLIENT_CA_FILE")
    return ServerTls(Path(cert), Path(key), Path(client_ca) if client_ca else None)


def _jwt_check(environ: Mapping[str, str]) -> JwtCheck:
    jwks_url = environ.get("GRAPHRESTORE_JWT_JWKS_URL", "")
    if urlsplit(jwks_url).scheme != "https":
        raise ConfigError("GRAPHRESTORE_JWT_JWKS_URL", "must be an https:// URL")
    return JwtCheck(
        jwks_url=jwks_url,
        issuer=_required(environ, "GRAPHRESTORE_JWT_ISSUER"),
        audience=_required(environ, "GRAPHRESTORE_JWT_AUDIENCE"),
    )


def _policy_file(environ: Mapping[str, str], auth: str) -> Path | None:
    """Required once callers are authenticated (default deny needs a policy to allow)."""
    path = environ.get("GRAPHRESTORE_POLICY_FILE", "")
    if not path:
        if auth != "none":
            raise ConfigError(
                "GRAPHRESTORE_POLICY_FILE", f"is required with GRAPHRESTORE_AUTH={auth}"
            )
        return None
    _read("GRAPHRESTORE_POLICY_FILE", path)
    return Path(path)


def _writable(environ: Mapping[str, str], name: str) -> Path | None:
    path = environ.get(name, "")
    if not path:
        return None
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ConfigError(name, f"cannot append to {path}: {exc.strerror}") from None
    return Path(path)


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").lower()
    if value not in ("", "0", "1", "true", "false"):
        raise ConfigError(name, f"must be true or false, not {value!r}")
    return value in ("1", "true")


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(name, "is required")
    return value


def _listen(value: str, variable: str = "GRAPHRESTORE_LISTEN") -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(variable, f"must be HOST:PORT, not {value!r}")
    return host, int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _https_url(environ: Mapping[str, str], name: str, default: str) -> str:
    """An origin; a trailing slash (as AZURE_AUTHORITY_HOST has) is dropped."""
    name, value = _aliased(environ, name)
    value = (value or default).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.path or parts.query:
        raise ConfigError(name, f"must be an https:// origin without a path, not {value!r}")
    return value


def _read(name: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(name, f"cannot read {path}: {exc.strerror}") from None


def _secret(path: str, variable: str) -> Secret:
    value = _read(variable, path).decode(errors="replace").strip()
    if not value:
        raise ConfigError(variable, f"{path} is empty")
    return Secret(value)


def _certificate(path: str, send_x5c: bool) -> ClientCertificate:
    name = "GRAPHRESTORE_CLIENT_CERT_FILE"
    pem = _read(name, path)
    try:
        certificate = x509.load_pem_x509_certificate(pem)
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError:
        raise ConfigError(
            name, f"{path} must hold a PEM certificate and its unencrypted key"
        ) from None
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return ClientCertificate(
        private_key_pem=Secret(key_pem.decode()),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        # x5t is SHA-1 by definition (RFC 7515); x5t#S256 needs the x5c route.
        sha1_thumbprint=certificate.fingerprint(hashes.SHA1()).hex(),
        send_x5c=send_x5c,
    )


def _check_ca_file(path: str, name: str = "GRAPHRESTORE_CA_FILE") -> None:
    _read(name, path)
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError:
        raise ConfigError(name, f"{path} holds no PEM CA certificate") from None
