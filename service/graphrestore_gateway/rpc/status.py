"""The one place where failures become gRPC statuses with google.rpc details."""

from __future__ import annotations

import re

import redis
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from graphrestore_gateway.exceptions import (
    MAX_QUOTED_CHARS,
    MAX_VIOLATIONS_NAMED,
    AuditUnavailable,
    BrowseSessionExpired,
    BrowseSessionNotFound,
    Denied,
    FactsUnavailable,
    InvalidRequest,
    Refusal,
    SessionNotFound,
    SiteNotFound,
    SiteUrlsWithheld,
    StoreLost,
    StoreUnavailable,
    TooManyRefusals,
    TooManyWatches,
    Unauthenticated,
    Unavailable,
    UnreconcilableCreate,
    violations_summary,
)
from graphrestore_gateway.graph.errors import (
    DEADLINE_EXCEEDED,
    ENTRA_UNREACHABLE,
    THROTTLE_BUDGET_EXHAUSTED,
    GraphError,
)
from graphrestore_gateway.graph.paths import UnsafeId
from graphrestore_gateway.records.exactly_once import StoredAnswer

GRAPH_DOMAIN = "graph.microsoft.com"
GATEWAY_DOMAIN = "graphrestore"
# When Graph gave no Retry-After but a retry may help.
DEFAULT_RETRY_S = 1.0
# Graph answered 5xx, but a retry is known to help.
RETRYABLE_5XX_CODES = frozenset({"IncompleteArtifactDeletion"})
# A status message stays far below gRPC's metadata limit whatever the input was.
MAX_MESSAGE_CHARS = 1024
REFUSAL_CODES: dict[type[Refusal], int] = {
    Unauthenticated: code_pb2.UNAUTHENTICATED,
    InvalidRequest: code_pb2.INVALID_ARGUMENT,
    Denied: code_pb2.PERMISSION_DENIED,
    SessionNotFound: code_pb2.NOT_FOUND,
    BrowseSessionNotFound: code_pb2.NOT_FOUND,
    SiteNotFound: code_pb2.NOT_FOUND,
    SiteUrlsWithheld: code_pb2.FAILED_PRECONDITION,
    BrowseSessionExpired: code_pb2.FAILED_PRECONDITION,
    FactsUnavailable: code_pb2.UNAVAILABLE,
    AuditUnavailable: code_pb2.UNAVAILABLE,
    TooManyWatches: code_pb2.RESOURCE_EXHAUSTED,
    UnreconcilableCreate: code_pb2.FAILED_PRECONDITION,
    TooManyRefusals: code_pb2.RESOURCE_EXHAUSTED,
    StoreUnavailable: code_pb2.UNAVAILABLE,
    StoreLost: code_pb2.UNAVAILABLE,
}
# Redis out of reach or past its timeout (GRAPHRESTORE_REDIS_TIMEOUT_S), wherever it is
# asked (request records, owners, the shared Graph budget): nothing was decided.
STORE_FAILURES = (redis.ConnectionError, redis.TimeoutError)


def reason_from_code(code: str) -> str:
    """AIP-193 reason: RestoreSessionNotFound -> RESTORE_SESSION_NOT_FOUND,
    Authorization_RequestDenied -> AUTHORIZATION_REQUEST_DENIED."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", code)
    return re.sub(r"[^A-Za-z0-9]+", "_", snake).strip("_").upper() or "UNKNOWN"


def _pack(
    *messages: error_details_pb2.ErrorInfo
    | error_details_pb2.RetryInfo
    | error_details_pb2.BadRequest,
) -> list[any_pb2.Any]:
    packed = []
    for message in messages:
        detail = any_pb2.Any()
        detail.Pack(message)
        packed.append(detail)
    return packed


def _retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    return error_details_pb2.RetryInfo(
        retry_delay=duration_pb2.Duration(seconds=int(seconds), nanos=int(seconds % 1 * 1e9))
    )


def _graph_code(error: GraphError) -> tuple[int, bool]:
    """(gRPC code, whether a retry may help) for an error Graph answered with."""
    status = error.http_status
    if status == 401:
        # The gateway's own credentials are wrong: nothing the caller can fix.
        return code_pb2.INTERNAL, False
    if status == 403:
        if error.code == "RestoreSessionActionNotAllowed":
            return code_pb2.FAILED_PRECONDITION, False
        return code_pb2.PERMISSION_DENIED, False
    if status == 404:
        return code_pb2.NOT_FOUND, False
    if status == 409:
        return code_pb2.ABORTED, False
    if status == 429 or error.code == "TooManyActiveRestoreSessions":
        return code_pb2.RESOURCE_EXHAUSTED, True
    if status >= 500:
        if status in (502, 503, 504) or error.code in RETRYABLE_5XX_CODES:
            return code_pb2.UNAVAILABLE, True
        return code_pb2.INTERNAL, False
    if 400 <= status < 500:
        return code_pb2.INVALID_ARGUMENT, False
    return code_pb2.UNKNOWN, False


def _gateway_code(error: GraphError) -> tuple[int, bool]:
    if error.code == DEADLINE_EXCEEDED:
        return code_pb2.DEADLINE_EXCEEDED, True
    if error.code == THROTTLE_BUDGET_EXHAUSTED:
        return code_pb2.RESOURCE_EXHAUSTED, True
    if error.source == "entra" and error.code != ENTRA_UNREACHABLE:
        # Entra refused the gateway's credentials: an operator must fix the gateway.
        return code_pb2.INTERNAL, False
    return code_pb2.UNAVAILABLE, True


def status_of(error: Exception, caller: str = "") -> status_pb2.Status:
    """Any failure of a call -> the google.rpc.Status the caller gets."""
    if isinstance(error, StoredAnswer):
        return error.status
    if isinstance(error, GraphError):
        return graph_error_status_proto(error)
    if isinstance(error, InvalidRequest):
        return bad_request_status_proto(error.violations)
    if isinstance(error, UnsafeId):
        violation = error_details_pb2.BadRequest.FieldViolation(field="id", description=str(error))
        return bad_request_status_proto([violation])
    if isinstance(error, Refusal):
        return refusal_status_proto(error, caller)
    if isinstance(error, STORE_FAILURES):
        return refusal_status_proto(StoreUnavailable(), caller)
    return status_pb2.Status(
        code=code_pb2.INTERNAL,
        message="the gateway failed to serve the call; its log says why",
        details=_pack(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=GATEWAY_DOMAIN)),
    )


def refusal_status_proto(refusal: Refusal, caller: str = "") -> status_pb2.Status:
    info = error_details_pb2.ErrorInfo(reason=refusal.reason, domain=GATEWAY_DOMAIN)
    if caller:
        info.metadata["caller"] = caller[:MAX_QUOTED_CHARS]
    details: list[error_details_pb2.ErrorInfo | error_details_pb2.RetryInfo] = [info]
    if isinstance(refusal, Unavailable):
        details.append(_retry_info(refusal.retry_after_s))
    return status_pb2.Status(
        code=REFUSAL_CODES.get(type(refusal), code_pb2.PERMISSION_DENIED),
        message=str(refusal)[:MAX_MESSAGE_CHARS],
        details=_pack(*details),
    )


def graph_error_status_proto(error: GraphError) -> status_pb2.Status:
    """GraphError -> status per graph-api.md's table, with ErrorInfo and RetryInfo."""
    answered = error.source == "graph"
    code, retryable = _graph_code(error) if answered else _gateway_code(error)
    metadata = {
        "graph_code": error.code,
        "http_status": str(error.http_status),
        "request_id": error.request_id,
        "client_request_id": error.client_request_id,
    }
    metadata.update(error.metadata)
    # Graph may quote what it was sent: keep every value short.
    metadata = {key: value[:MAX_QUOTED_CHARS] for key, value in metadata.items()}
    message = f"Graph: {error.message}" if answered else error.message
    if error.may_have_applied:
        metadata["may_have_applied"] = "true"
        message += "; the change may have been applied, check before sending it again"
    details: list[error_details_pb2.ErrorInfo | error_details_pb2.RetryInfo] = [
        error_details_pb2.ErrorInfo(
            reason=reason_from_code(error.code),
            domain=GRAPH_DOMAIN if answered else GATEWAY_DOMAIN,
            metadata=metadata,
        )
    ]
    if retryable:
        details.append(_retry_info(error.retry_after_s or DEFAULT_RETRY_S))
    return status_pb2.Status(
        code=code, message=message[:MAX_MESSAGE_CHARS], details=_pack(*details)
    )


def bad_request_status_proto(
    violations: list[error_details_pb2.BadRequest.FieldViolation],
) -> status_pb2.Status:
    """Our own validation failure: INVALID_ARGUMENT with the bad fields named (the first
    MAX_VIOLATIONS_NAMED; the message counts them all)."""
    return status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT,
        message=f"invalid request: {violations_summary(violations)}"[:MAX_MESSAGE_CHARS],
        details=_pack(
            error_details_pb2.ErrorInfo(reason="INVALID_REQUEST", domain=GATEWAY_DOMAIN),
            error_details_pb2.BadRequest(field_violations=violations[:MAX_VIOLATIONS_NAMED]),
        ),
    )
