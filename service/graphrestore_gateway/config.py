"""Settings from GRAPHRESTORE_* variables, read and checked once at start."""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$")
CLIENT_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
AUTH_MODES = ("none",)


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
class ClientCertificate:
    """The gateway's app credential as a certificate (PEM with key)."""

    private_key_pem: Secret
    certificate_pem: str


@dataclass(frozen=True)
class Settings:
    listen_host: str
    listen_port: int
    auth: str
    tenant_id: str
    client_id: str
    client_secret: Secret | None
    client_certificate: ClientCertificate | None
    authority_host: str
    graph_url: str
    ca_file: Path | None

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
    tenant_id = _required(environ, "GRAPHRESTORE_TENANT_ID")
    if not TENANT_ID.match(tenant_id):
        raise ConfigError("GRAPHRESTORE_TENANT_ID", "must be a tenant GUID or domain name")
    client_id = _required(environ, "GRAPHRESTORE_CLIENT_ID")
    if not CLIENT_ID.match(client_id):
        raise ConfigError("GRAPHRESTORE_CLIENT_ID", "must be the application (client) id, a GUID")
    secret_file = environ.get("GRAPHRESTORE_CLIENT_SECRET_FILE", "")
    cert_file = environ.get("GRAPHRESTORE_CLIENT_CERT_FILE", "")
    if bool(secret_file) == bool(cert_file):
        raise ConfigError(
            "GRAPHRESTORE_CLIENT_SECRET_FILE",
            "set exactly one of it and GRAPHRESTORE_CLIENT_CERT_FILE",
        )
    ca_file = environ.get("GRAPHRESTORE_CA_FILE", "")
    if ca_file:
        _check_ca_file(ca_file)
    return Settings(
        listen_host=listen_host,
        listen_port=listen_port,
        auth=auth,
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret=_secret(secret_file) if secret_file else None,
        client_certificate=_certificate(cert_file) if cert_file else None,
        authority_host=_https_url(
            environ, "GRAPHRESTORE_AUTHORITY_HOST", "https://login.microsoftonline.com"
        ),
        graph_url=_https_url(environ, "GRAPHRESTORE_GRAPH_URL", "https://graph.microsoft.com"),
        ca_file=Path(ca_file) if ca_file else None,
    )


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(name, "is required")
    return value


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError("GRAPHRESTORE_LISTEN", f"must be HOST:PORT, not {value!r}")
    return host, int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _https_url(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, default).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.path or parts.query:
        raise ConfigError(name, f"must be an https:// origin without a path, not {value!r}")
    return value


def _read(name: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(name, f"cannot read {path}: {exc.strerror}") from None


def _secret(path: str) -> Secret:
    value = _read("GRAPHRESTORE_CLIENT_SECRET_FILE", path).decode(errors="replace").strip()
    if not value:
        raise ConfigError("GRAPHRESTORE_CLIENT_SECRET_FILE", f"{path} is empty")
    return Secret(value)


def _certificate(path: str) -> ClientCertificate:
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
    )


def _check_ca_file(path: str) -> None:
    _read("GRAPHRESTORE_CA_FILE", path)
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError:
        raise ConfigError("GRAPHRESTORE_CA_FILE", f"{path} holds no PEM CA certificate") from None
