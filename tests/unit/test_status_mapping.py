"""Failures -> gRPC statuses (rpc/status.py): every row of graph-api.md's "Errors" table
through its "Mapping to gRPC" table, the gateway's own failures, and the details a
caller decides by (ErrorInfo reason in UPPER_SNAKE_CASE, RetryInfo, metadata)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
import redis
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from graphrestore_gateway import exceptions
from graphrestore_gateway.graph import errors
from graphrestore_gateway.graph.errors import GraphError, parse_retry_after
from graphrestore_gateway.graph.paths import UnsafeId
from graphrestore_gateway.records.exactly_once import StoredAnswer
from graphrestore_gateway.rpc.status import (
    DEFAULT_RETRY_S,
    GATEWAY_DOMAIN,
    GRAPH_DOMAIN,
    MAX_MESSAGE_CHARS,
    reason_from_code,
    status_of,
)

UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")
RETRY = True

# graph-api.md, "Errors": (call, HTTP status, Graph's code), one row per code, mapped by
# "Mapping to gRPC" (400/413/422 INVALID_ARGUMENT, 401 INTERNAL, 403 RestoreSession-
# ActionNotAllowed FAILED_PRECONDITION, other 403 PERMISSION_DENIED, 404 NOT_FOUND,
# 409 ABORTED, 429 and 500 TooManyActiveRestoreSessions RESOURCE_EXHAUSTED with RetryInfo,
# retryable 5xx UNAVAILABLE with RetryInfo, other 5xx INTERNAL).
DOCUMENTED_ERRORS = [
    ("create", 400, "InvalidPathType", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("create", 400, "InvalidArtifactRequest", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("create", 400, "InvalidRestorePoint", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("create", 400, "DifferentRestoreDestinationType", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("create", 400, "DuplicateArtifactInList", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("create", 413, "RestoreArtifactsLimitBreached", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("get", 400, "InvalidRestoreSessionId", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("get", 404, "RestoreSessionNotFound", code_pb2.NOT_FOUND, not RETRY),
    ("patch", 400, "InvalidPatchRequest", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("patch", 400, "RestoreArtifactsLimitBreached", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("patch", 403, "RestoreSessionActionNotAllowed", code_pb2.FAILED_PRECONDITION, not RETRY),
    ("delete", 403, "RestoreSessionActionNotAllowed", code_pb2.FAILED_PRECONDITION, not RETRY),
    ("activate", 403, "RestoreSessionActionNotAllowed", code_pb2.FAILED_PRECONDITION, not RETRY),
    ("delete", 500, "IncompleteArtifactDeletion", code_pb2.UNAVAILABLE, RETRY),
    ("activate", 500, "TooManyActiveRestoreSessions", code_pb2.RESOURCE_EXHAUSTED, RETRY),
    ("search", 400, "InvalidSearchRequest", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("search", 400, "InvalidProtectionUnitId", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("search", 400, "FilterLengthExceeded", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("bulk create", 400, "BulkRestoreInvalidCreateRequest", code_pb2.INVALID_ARGUMENT, not RETRY),
    (
        "bulk create",
        400,
        "BulkRestoreRestorationResourcesCountExceedsLimit",
        code_pb2.INVALID_ARGUMENT,
        not RETRY,
    ),
    (
        "bulk create",
        400,
        "BulkRestoreInvalidCreateRequestUserEmail",
        code_pb2.INVALID_ARGUMENT,
        not RETRY,
    ),
    ("bulk get", 404, "BulkRestoreArtifactsNotFound", code_pb2.NOT_FOUND, not RETRY),
    ("any", 401, "InvalidAuthenticationToken", code_pb2.INTERNAL, not RETRY),
    ("any", 403, "Forbidden", code_pb2.PERMISSION_DENIED, not RETRY),
    ("any", 403, "Authorization_RequestDenied", code_pb2.PERMISSION_DENIED, not RETRY),
    ("any", 429, "TooManyRequests", code_pb2.RESOURCE_EXHAUSTED, RETRY),
    ("any", 503, "serviceNotAvailable", code_pb2.UNAVAILABLE, RETRY),
    ("any", 504, "gatewayTimeout", code_pb2.UNAVAILABLE, RETRY),
    # The mapping table's rows no documented code reaches.
    ("any", 422, "UnprocessableEntity", code_pb2.INVALID_ARGUMENT, not RETRY),
    ("any", 409, "Conflict", code_pb2.ABORTED, not RETRY),
    ("any", 500, "generalException", code_pb2.INTERNAL, not RETRY),
    ("any", 501, "notImplemented", code_pb2.INTERNAL, not RETRY),
    ("any", 502, "badGateway", code_pb2.UNAVAILABLE, RETRY),
]


def unpack(
    status: status_pb2.Status,
) -> tuple[error_details_pb2.ErrorInfo, error_details_pb2.RetryInfo | None, list[any_pb2.Any]]:
    info, retry = error_details_pb2.ErrorInfo(), None
    assert status.details[0].Unpack(info), "ErrorInfo comes first"
    for detail in status.details[1:]:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
    return info, retry, list(status.details)


@pytest.mark.parametrize(
    ("call", "http_status", "graph_code", "grpc_code", "retryable"),
    DOCUMENTED_ERRORS,
    ids=[f"{row[0]}-{row[1]}-{row[2]}" for row in DOCUMENTED_ERRORS],
)
def test_each_documented_graph_error_maps_as_the_contract_says(
    call: str, http_status: int, graph_code: str, grpc_code: int, retryable: bool
) -> None:
    error = GraphError(
        graph_code,
        "what Graph said",
        http_status=http_status,
        request_id="req-1",
        client_request_id="client-1",
    )
    status = status_of(error)
    assert status.code == grpc_code
    info, retry, _ = unpack(status)
    assert info.domain == GRAPH_DOMAIN
    assert UPPER_SNAKE.fullmatch(info.reason), info.reason
    assert info.reason == reason_from_code(graph_code)
    assert dict(info.metadata) == {
        "graph_code": graph_code,
        "http_status": str(http_status),
        "request_id": "req-1",
        "client_request_id": "client-1",
    }
    assert (retry is not None) is retryable
    if retry is not None:
        assert retry.retry_delay.ToTimedelta().total_seconds() == DEFAULT_RETRY_S
    assert status.message == "Graph: what Graph said"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("RestoreSessionNotFound", "RESTORE_SESSION_NOT_FOUND"),
        ("Authorization_RequestDenied", "AUTHORIZATION_REQUEST_DENIED"),
        ("serviceNotAvailable", "SERVICE_NOT_AVAILABLE"),
        ("http500", "HTTP500"),
        (
            "BulkRestoreInvalidCreateRequestUserEmail",
            "BULK_RESTORE_INVALID_CREATE_REQUEST_USER_EMAIL",
        ),
        ("invalid_client", "INVALID_CLIENT"),
        ("a.b-c d", "A_B_C_D"),
        ("__", "UNKNOWN"),
        ("", "UNKNOWN"),
        ("ünïcode", "N_CODE"),
    ],
)
def test_reasons_are_graphs_code_in_upper_snake_case(code: str, reason: str) -> None:
    assert reason_from_code(code) == reason
    assert UPPER_SNAKE.fullmatch(reason_from_code(code))


def test_graphs_retry_after_is_the_callers_retry_delay() -> None:
    error = GraphError("TooManyRequests", "slow down", http_status=429, retry_after_s=7.5)
    _, retry, _ = unpack(status_of(error))
    assert retry is not None
    assert retry.retry_delay.seconds == 7 and retry.retry_delay.nanos == 500_000_000


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (None, None),
        ("-1", None),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2026 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # already past: at once
    ],
)
def test_retry_after_is_read_in_seconds_or_as_a_date(
    value: str | None, seconds: float | None
) -> None:
    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC).timestamp()
    assert parse_retry_after(value, now=now) == seconds


def graph_response(status: int, body: bytes, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers)


def test_graphs_error_body_is_parsed_with_its_ids_and_retry_after() -> None:
    body = b'{"error": {"code": "TooManyRequests", "message": "throttled"}}'
    response = graph_response(429, body, **{"request-id": "r-1", "retry-after": "3"})
    error = GraphError.from_response(response, "sent-id")
    assert (error.code, error.message, error.http_status) == ("TooManyRequests", "throttled", 429)
    assert (error.request_id, error.client_request_id, error.retry_after_s) == ("r-1", "sent-id", 3)


@pytest.mark.parametrize(
    "body", [b"", b"<html>bad gateway</html>", b"[]", b'{"error": "text"}', b'{"error": {}}']
)
def test_any_other_error_body_still_gives_an_error_by_http_status(body: bytes) -> None:
    error = GraphError.from_response(graph_response(502, body), "sent-id")
    assert error.code == "http502" and error.http_status == 502
    assert status_of(error).code == code_pb2.UNAVAILABLE


@pytest.mark.parametrize(
    ("code", "source", "grpc_code", "retryable"),
    [
        (errors.DEADLINE_EXCEEDED, "gateway", code_pb2.DEADLINE_EXCEEDED, True),
        (errors.THROTTLE_BUDGET_EXHAUSTED, "gateway", code_pb2.RESOURCE_EXHAUSTED, True),
        (errors.GRAPH_UNREACHABLE, "gateway", code_pb2.UNAVAILABLE, True),
        (errors.GRAPH_ANSWER_LOST, "gateway", code_pb2.UNAVAILABLE, True),
        (errors.GRAPH_MALFORMED_ANSWER, "gateway", code_pb2.UNAVAILABLE, True),
        (errors.ENTRA_UNREACHABLE, "entra", code_pb2.UNAVAILABLE, True),
        (errors.AUTHORITY_REJECTED, "entra", code_pb2.INTERNAL, False),
        ("invalid_client", "entra", code_pb2.INTERNAL, False),
        ("unauthorized_client", "entra", code_pb2.INTERNAL, False),
    ],
)
def test_failures_without_a_graph_answer(
    code: str, source: errors.Source, grpc_code: int, retryable: bool
) -> None:
    status = status_of(GraphError(code, "no answer", source=source))
    assert status.code == grpc_code
    info, retry, _ = unpack(status)
    assert info.domain == GATEWAY_DOMAIN
    assert (retry is not None) is retryable
    assert not status.message.startswith("Graph:")


def test_a_change_that_may_have_applied_says_so() -> None:
    error = GraphError(
        errors.GRAPH_ANSWER_LOST, "connection lost", source="gateway", may_have_applied=True
    )
    status = status_of(error)
    info, _, _ = unpack(status)
    assert info.metadata["may_have_applied"] == "true"
    assert "may have been applied" in status.message


def test_what_graph_quotes_is_cut_short() -> None:
    error = GraphError(
        "InvalidRestorePoint",
        "m" * 10_000,
        http_status=400,
        request_id="r" * 10_000,
        metadata={"restore_session_id": "s" * 10_000},
    )
    status = status_of(error)
    info, _, _ = unpack(status)
    assert len(status.message) <= MAX_MESSAGE_CHARS
    assert all(len(value) <= exceptions.MAX_QUOTED_CHARS for value in info.metadata.values())
    assert info.metadata["restore_session_id"].startswith("s")


REFUSALS = [
    (exceptions.Unauthenticated("no credentials"), code_pb2.UNAUTHENTICATED, False),
    (exceptions.Denied("not yours", reason="UNIT_NOT_ALLOWED"), code_pb2.PERMISSION_DENIED, False),
    (exceptions.SessionNotFound("not_owner"), code_pb2.NOT_FOUND, False),
    (exceptions.BrowseSessionNotFound("not_owner"), code_pb2.NOT_FOUND, False),
    (exceptions.BrowseSessionExpired("bs-1"), code_pb2.FAILED_PRECONDITION, False),
    (exceptions.FactsUnavailable("no facts", retry_after_s=2), code_pb2.UNAVAILABLE, True),
    (exceptions.AuditUnavailable(), code_pb2.UNAVAILABLE, True),
    (exceptions.TooManyWatches("too many"), code_pb2.RESOURCE_EXHAUSTED, False),
    (exceptions.SiteNotFound("https://contoso/sites/x", "unknown"), code_pb2.NOT_FOUND, False),
    (exceptions.SiteUrlsWithheld(), code_pb2.FAILED_PRECONDITION, False),
    (
        exceptions.UnreconcilableCreate("AMBIGUOUS_CREATE", ["s-1", "s-2"]),
        code_pb2.FAILED_PRECONDITION,
        False,
    ),
    (exceptions.TooManyRefusals(3.0), code_pb2.RESOURCE_EXHAUSTED, True),
    (exceptions.StoreUnavailable(), code_pb2.UNAVAILABLE, True),
    (exceptions.StoreLost(), code_pb2.UNAVAILABLE, True),
]


@pytest.mark.parametrize(
    ("refusal", "grpc_code", "retryable"), REFUSALS, ids=[type(r[0]).__name__ for r in REFUSALS]
)
def test_each_refusal_of_the_gateways_own(
    refusal: exceptions.Refusal, grpc_code: int, retryable: bool
) -> None:
    status = status_of(refusal, caller="spiffe://corp/bot")
    assert status.code == grpc_code
    info, retry, _ = unpack(status)
    assert info.domain == GATEWAY_DOMAIN
    assert info.reason == refusal.reason and UPPER_SNAKE.fullmatch(info.reason)
    assert info.metadata["caller"] == "spiffe://corp/bot"
    assert (retry is not None) is retryable


def test_every_refusal_kind_has_a_code_and_a_row_above() -> None:
    """A new Refusal subclass must be given a gRPC code here (or it is PERMISSION_DENIED)."""

    def subclasses(cls: type) -> set[type]:
        return {cls, *(s for c in cls.__subclasses__() for s in subclasses(c))}

    kinds = subclasses(exceptions.Refusal) - {exceptions.Refusal, exceptions.Unavailable}
    tested = {type(refusal) for refusal, _, _ in REFUSALS} | {exceptions.InvalidRequest}
    assert kinds <= tested, kinds - tested


def test_the_unaudited_candidates_of_an_unreconcilable_create_stay_out_of_the_status() -> None:
    refusal = exceptions.UnreconcilableCreate("AMBIGUOUS_CREATE", ["draft-1"], ["other-call"])
    status = status_of(refusal)
    assert "draft-1" not in str(status) and "other-call" not in str(status)


def test_a_caller_id_in_error_info_is_bounded() -> None:
    info, _, _ = unpack(status_of(exceptions.Denied("no"), caller="c" * 10_000))
    assert len(info.metadata["caller"]) == exceptions.MAX_QUOTED_CHARS


def violation(field: str) -> error_details_pb2.BadRequest.FieldViolation:
    return error_details_pb2.BadRequest.FieldViolation(field=field, description="is bad")


def test_a_validation_failure_names_its_fields_in_bad_request() -> None:
    status = status_of(exceptions.InvalidRequest([violation("a"), violation("b")]))
    assert status.code == code_pb2.INVALID_ARGUMENT
    info, _, details = unpack(status)
    assert (info.reason, info.domain) == ("INVALID_REQUEST", GATEWAY_DOMAIN)
    bad = error_details_pb2.BadRequest()
    assert details[1].Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["a", "b"]


def test_a_flood_of_violations_is_named_in_part_and_counted_in_full() -> None:
    many = [violation(f"f[{i}]") for i in range(5000)]
    status = status_of(exceptions.InvalidRequest(many))
    bad = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad)
    assert len(bad.field_violations) == exceptions.MAX_VIOLATIONS_NAMED
    assert len(status.message) <= MAX_MESSAGE_CHARS
    assert "5000" in status.message


def test_an_unsafe_id_is_a_bad_request() -> None:
    status = status_of(UnsafeId("'..' cannot be a path segment"))
    assert status.code == code_pb2.INVALID_ARGUMENT
    bad = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad)
    assert bad.field_violations[0].field == "id"


@pytest.mark.parametrize(
    "error", [redis.ConnectionError("refused"), redis.TimeoutError("slow")], ids=["down", "slow"]
)
def test_an_unreachable_store_decided_nothing_and_says_retry(error: Exception) -> None:
    status = status_of(error)
    assert status.code == code_pb2.UNAVAILABLE
    info, retry, _ = unpack(status)
    assert info.reason == "REQUEST_STORE_UNAVAILABLE" and retry is not None


def test_a_stored_answer_is_replayed_as_it_was() -> None:
    stored = status_pb2.Status(code=code_pb2.ALREADY_EXISTS, message="seen before")
    assert status_of(StoredAnswer(stored)) == stored


def test_anything_unforeseen_is_internal_and_tells_nothing() -> None:
    status = status_of(KeyError("/var/lib/secret-path"))
    assert status.code == code_pb2.INTERNAL
    assert "secret-path" not in str(status)
    info, retry, _ = unpack(status)
    assert (info.reason, info.domain, retry) == ("INTERNAL", GATEWAY_DOMAIN, None)
