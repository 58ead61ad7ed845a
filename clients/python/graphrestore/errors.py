"""A failed gateway call as one exception: status code, ErrorInfo reason, Graph's codes
and request ids, RetryInfo and the bad fields, read from the rich status the gateway sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.rpc import error_details_pb2

from graphrestore.channel import error_details


@dataclass(eq=False)
class GatewayError(grpc.RpcError):
    """What the gateway answered to a call it did not serve.

    `reason` and `domain` are the ErrorInfo's (`graph.microsoft.com` when Graph refused,
    `graphrestore` when the gateway did); `graph_code`, `graph_request_id` and
    `client_request_id` are Graph's, for a support ticket; `retry_after_s` is RetryInfo's
    delay when a retry may help. It is a grpc.RpcError, for code written against the stubs."""

    status_code: grpc.StatusCode
    message: str
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    retry_after_s: float | None = None
    field_violations: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.status_code.name}: {self.message}"

    def code(self) -> grpc.StatusCode:
        """As grpc.Call's."""
        return self.status_code

    def details(self) -> str:
        """As grpc.Call's: the status message."""
        return self.message

    @property
    def graph_code(self) -> str:
        return self.metadata.get("graph_code", "")

    @property
    def graph_request_id(self) -> str:
        return self.metadata.get("request_id", "")

    @property
    def client_request_id(self) -> str:
        return self.metadata.get("client_request_id", "")

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> GatewayError:
        """Read the code, message and google.rpc details of a failed call (sync or aio)."""
        if isinstance(error, GatewayError):
            return error
        if not isinstance(error, grpc.Call | grpc.aio.AioRpcError):
            return cls(grpc.StatusCode.UNKNOWN, str(error))
        failure = cls(error.code(), error.details() or "")
        for detail in error_details(error):
            info = error_details_pb2.ErrorInfo()
            retry = error_details_pb2.RetryInfo()
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(info):
                failure.reason, failure.domain = info.reason, info.domain
                failure.metadata = dict(info.metadata)
            elif detail.Unpack(retry):
                failure.retry_after_s = retry.retry_delay.ToTimedelta().total_seconds()
            elif detail.Unpack(bad_request):
                failure.field_violations = [
                    (v.field, v.description) for v in bad_request.field_violations
                ]
        return failure

    def as_json(self) -> dict[str, Any]:
        """One object for scripts (restorectl --json writes it on stderr)."""
        return {
            "code": self.status_code.name,
            "reason": self.reason,
            "domain": self.domain,
            "message": self.message,
            "graph_code": self.graph_code,
            "graph_request_id": self.graph_request_id,
            "client_request_id": self.client_request_id,
            "retry_after_s": self.retry_after_s,
            "field_violations": [
                {"field": name, "description": text} for name, text in self.field_violations
            ],
            "metadata": self.metadata,
        }

    def lines(self) -> list[str]:
        """Human lines: code and message, then each detail."""
        lines = [str(self)]
        if self.reason:
            extra = ", ".join(f"{k}={v}" for k, v in sorted(self.metadata.items()) if v)
            lines.append(f"  reason: {self.reason} ({self.domain}){' ' + extra if extra else ''}")
        if self.retry_after_s is not None:
            lines.append(f"  retry after: {self.retry_after_s:g}s")
        lines.extend(f"  {name}: {text}" for name, text in self.field_violations)
        return lines
