"""Connect to the graphrestore gateway, and read the rich error details it sends."""

from __future__ import annotations

import ipaddress
import uuid
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2

_STATUS_DETAILS_KEY = "grpc-status-details-bin"


def is_loopback(target: str) -> bool:
    host = target.rpartition(":")[0].strip("[]") or target
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerTokenFile(grpc.AuthMetadataPlugin):
    """`authorization: Bearer <token>` on every call, the token read from its file each
    time, so a token rotated on disk (e.g. by a sidecar) is used from the next call."""

    def __init__(self, token_file: str) -> None:
        self._token_file = Path(token_file)

    def __call__(
        self, context: grpc.AuthMetadataContext, callback: grpc.AuthMetadataPluginCallback
    ) -> None:
        try:
            token = self._token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            callback((), error)
            return
        callback((("authorization", f"Bearer {token}"),), None)


def channel_credentials(
    target: str,
    *,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    token_file: str | None = None,
) -> grpc.ChannelCredentials | None:
    """TLS (mTLS with cert_file and key_file) unless the gateway is on loopback and no
    TLS file is given, which is how a gateway with GRAPHRESTORE_AUTH=none listens (None:
    plaintext). A token file adds a bearer token to every call."""
    tls_files = ca_file or cert_file or key_file
    if not tls_files and is_loopback(target) and not token_file:
        return None
    if not tls_files and is_loopback(target):
        # gRPC sends call credentials over TLS or a local connection only.
        credentials = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    else:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=Path(ca_file).read_bytes() if ca_file else None,
            private_key=Path(key_file).read_bytes() if key_file else None,
            certificate_chain=Path(cert_file).read_bytes() if cert_file else None,
        )
    if token_file:
        token = grpc.metadata_call_credentials(BearerTokenFile(token_file))
        credentials = grpc.composite_channel_credentials(credentials, token)
    return credentials


def open_channel(
    target: str,
    *,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    token_file: str | None = None,
) -> grpc.Channel:
    """A channel to the gateway, secured as channel_credentials says."""
    credentials = channel_credentials(
        target, ca_file=ca_file, cert_file=cert_file, key_file=key_file, token_file=token_file
    )
    if credentials is None:
        return grpc.insecure_channel(target)
    return grpc.secure_channel(target, credentials)


def new_request_id() -> str:
    """A fresh AIP-155 request id; send the same one again when retrying the same call."""
    return str(uuid.uuid4())


def error_details(error: grpc.RpcError) -> list[any_pb2.Any]:
    """The google.rpc details (ErrorInfo, RetryInfo, BadRequest...) of a failed call."""
    is_call = isinstance(error, grpc.Call | grpc.aio.AioRpcError)
    trailers: Any = error.trailing_metadata() if is_call else None  # sync and aio types
    for key, value in trailers or ():
        if key == _STATUS_DETAILS_KEY and isinstance(value, bytes):
            return list(status_pb2.Status.FromString(value).details)
    return []
