"""Connect to the graphrestore gateway, and read the rich error details it sends."""

from __future__ import annotations

import ipaddress
import uuid
from pathlib import Path

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

_STATUS_DETAILS_KEY = "grpc-status-details-bin"


def _is_loopback(target: str) -> bool:
    host = target.rpartition(":")[0].strip("[]") or target
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_channel(
    target: str,
    *,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> grpc.Channel:
    """TLS (mTLS with cert_file and key_file) unless the gateway is on loopback and no
    TLS file is given, which is how a gateway with GRAPHRESTORE_AUTH=none listens."""
    if ca_file is None and cert_file is None and _is_loopback(target):
        return grpc.insecure_channel(target)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=Path(ca_file).read_bytes() if ca_file else None,
        private_key=Path(key_file).read_bytes() if key_file else None,
        certificate_chain=Path(cert_file).read_bytes() if cert_file else None,
    )
    return grpc.secure_channel(target, credentials)


def new_request_id() -> str:
    """A fresh AIP-155 request id; send the same one again when retrying the same call."""
    return str(uuid.uuid4())


def error_details(error: grpc.RpcError) -> list[any_pb2.Any]:
    """The google.rpc details (ErrorInfo, RetryInfo, BadRequest...) of a failed call."""
    trailers = error.trailing_metadata() if isinstance(error, grpc.Call) else None
    key: str
    value: str | bytes
    for key, value in trailers or ():
        if key == _STATUS_DETAILS_KEY and isinstance(value, bytes):
            return list(status_pb2.Status.FromString(value).details)
    return []


def describe_error(error: grpc.RpcError) -> list[str]:
    """Human lines for a failed call: code and message, then each detail."""
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    message = error.details() if isinstance(error, grpc.Call) else str(error)
    lines = [f"{code.name}: {message}"]
    for detail in error_details(error):
        info = error_details_pb2.ErrorInfo()
        retry = error_details_pb2.RetryInfo()
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(info):
            extra = ", ".join(f"{k}={v}" for k, v in sorted(info.metadata.items()) if v)
            lines.append(f"  reason: {info.reason} ({info.domain}){' ' + extra if extra else ''}")
        elif detail.Unpack(retry):
            lines.append(f"  retry after: {retry.retry_delay.ToTimedelta().total_seconds():g}s")
        elif detail.Unpack(bad_request):
            lines.extend(f"  {v.field}: {v.description}" for v in bad_request.field_violations)
    return lines
