"""Every Graph failure reaches the caller as the status graph-api.md's table names."""

from __future__ import annotations

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from helpers import create_request, error_info, retry_delay_s, wait_for
from processes import CREATE_PATH, Emulator, Gateway, own_gateway

C = grpc.StatusCode

# (Graph status, Graph code, gRPC code, whether RetryInfo is attached)
GRAPH_ERROR_TABLE = [
    (400, "InvalidPathType", C.INVALID_ARGUMENT, False),
    (400, "InvalidArtifactRequest", C.INVALID_ARGUMENT, False),
    (400, "InvalidRestorePoint", C.INVALID_ARGUMENT, False),
    (400, "DifferentRestoreDestinationType", C.INVALID_ARGUMENT, False),
    (400, "DuplicateArtifactInList", C.INVALID_ARGUMENT, False),
    (413, "RestoreArtifactsLimitBreached", C.INVALID_ARGUMENT, False),
    (422, "UnprocessableEntity", C.INVALID_ARGUMENT, False),
    (403, "RestoreSessionActionNotAllowed", C.FAILED_PRECONDITION, False),
    (403, "Forbidden", C.PERMISSION_DENIED, False),
    (403, "Authorization_RequestDenied", C.PERMISSION_DENIED, False),
    (404, "RestoreSessionNotFound", C.NOT_FOUND, False),
    (409, "Conflict", C.ABORTED, False),
    (500, "TooManyActiveRestoreSessions", C.RESOURCE_EXHAUSTED, True),
    (500, "IncompleteArtifactDeletion", C.UNAVAILABLE, True),
    (500, "InternalServerError", C.INTERNAL, False),
    (502, "badGateway", C.UNAVAILABLE, True),
    (504, "gatewayTimeout", C.UNAVAILABLE, True),
]


def expected_reason(code: str) -> str:
    return {
        "InvalidPathType": "INVALID_PATH_TYPE",
        "InvalidArtifactRequest": "INVALID_ARTIFACT_REQUEST",
        "InvalidRestorePoint": "INVALID_RESTORE_POINT",
        "DifferentRestoreDestinationType": "DIFFERENT_RESTORE_DESTINATION_TYPE",
        "DuplicateArtifactInList": "DUPLICATE_ARTIFACT_IN_LIST",
        "RestoreArtifactsLimitBreached": "RESTORE_ARTIFACTS_LIMIT_BREACHED",
        "UnprocessableEntity": "UNPROCESSABLE_ENTITY",
        "RestoreSessionActionNotAllowed": "RESTORE_SESSION_ACTION_NOT_ALLOWED",
        "Forbidden": "FORBIDDEN",
        "Authorization_RequestDenied": "AUTHORIZATION_REQUEST_DENIED",
        "RestoreSessionNotFound": "RESTORE_SESSION_NOT_FOUND",
        "Conflict": "CONFLICT",
        "TooManyActiveRestoreSessions": "TOO_MANY_ACTIVE_RESTORE_SESSIONS",
        "IncompleteArtifactDeletion": "INCOMPLETE_ARTIFACT_DELETION",
        "InternalServerError": "INTERNAL_SERVER_ERROR",
        "badGateway": "BAD_GATEWAY",
        "gatewayTimeout": "GATEWAY_TIMEOUT",
        "TooManyRequests": "TOO_MANY_REQUESTS",
        "serviceNotAvailable": "SERVICE_NOT_AVAILABLE",
    }[code]


@pytest.mark.parametrize(("http_status", "graph_code", "grpc_code", "retryable"), GRAPH_ERROR_TABLE)
def test_graph_error_maps_to_its_grpc_status(
    emulator: Emulator,
    stub: service_grpc.OneDriveRestoreServiceStub,
    http_status: int,
    graph_code: str,
    grpc_code: grpc.StatusCode,
    retryable: bool,
) -> None:
    emulator.fault_on_create(kind="status", status=http_status, code=graph_code)
    posts_before = emulator.posts_to_create()
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("rp-1"), timeout=10)
    error = failure.value
    assert error.code() == grpc_code
    info = error_info(error)
    assert info.domain == "graph.microsoft.com"
    assert info.reason == expected_reason(graph_code)
    assert info.metadata["graph_code"] == graph_code
    assert info.metadata["http_status"] == str(http_status)
    assert info.metadata["request_id"]
    assert info.metadata["client_request_id"]
    assert (retry_delay_s(error) is not None) == retryable
    # A create Graph may have taken is never sent twice.
    assert emulator.posts_to_create() == posts_before + 1


@pytest.mark.parametrize(
    ("http_status", "graph_code", "grpc_code"),
    [(429, "TooManyRequests", C.RESOURCE_EXHAUSTED), (503, "serviceNotAvailable", C.UNAVAILABLE)],
)
def test_throttling_longer_than_the_deadline_fails_at_once_with_retry_info(
    emulator: Emulator,
    http_status: int,
    graph_code: str,
    grpc_code: grpc.StatusCode,
) -> None:
    """On a gateway of its own: Graph asks for 2 minutes; the gateway pauses the whole tenant
    budget for the 60 s it honours at most (graph/backoff.py MAX_RETRY_AFTER_S)."""
    emulator.fault_on_create(
        kind="status",
        status=http_status,
        code=graph_code,
        retry_after_s=120,
    )
    posts_before = emulator.posts_to_create()
    with own_gateway(emulator.gateway_env()) as (_, stub), pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("rp-1"), timeout=20)
    assert failure.value.code() == grpc_code
    assert retry_delay_s(failure.value) == 60
    assert error_info(failure.value).reason == expected_reason(graph_code)
    assert emulator.posts_to_create() == posts_before + 1


def test_retry_after_is_waited_out_and_the_create_succeeds(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    emulator.fault_on_create(
        kind="status",
        status=429,
        code="TooManyRequests",
        retry_after_s=1,
    )
    created_before = emulator.counters()["sessions_created"]
    session = stub.CreateRestoreSession(create_request("rp-1"), timeout=20)
    assert session.id
    posts = [r for r in emulator.journal() if r["method"] == "POST" and r["path"] == CREATE_PATH][
        -2:
    ]
    # Both attempts carry the same client-request-id; the second came after Retry-After.
    assert posts[0]["client_request_id"] == posts[1]["client_request_id"]
    assert posts[1]["time"] - posts[0]["time"] >= 1.0
    assert emulator.counters()["sessions_created"] == created_before + 1


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("drop", "GRAPH_ANSWER_LOST"),
        ("apply_then_drop", "GRAPH_ANSWER_LOST"),
        ("malformed", "GRAPH_MALFORMED_ANSWER"),
        ("truncated", "GRAPH_ANSWER_LOST"),
    ],
)
def test_a_lost_answer_is_unavailable_and_never_resent(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub, fault: str, reason: str
) -> None:
    emulator.fault_on_create(kind=fault, status=201)
    posts_before = emulator.posts_to_create()
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("rp-1"), timeout=10)
    assert failure.value.code() == C.UNAVAILABLE
    info = error_info(failure.value)
    assert (info.domain, info.reason) == ("graphrestore", reason)
    assert info.metadata["may_have_applied"] == "true"
    assert "may have been applied" in failure.value.details()
    assert retry_delay_s(failure.value) is not None
    assert emulator.posts_to_create() == posts_before + 1


def test_a_slow_graph_ends_at_the_callers_deadline(
    emulator: Emulator, gateway: Gateway, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    emulator.fault_on_create(kind="delay", delay_s=3)
    request = create_request("rp-1")
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(request, timeout=1)
    assert failure.value.code() == C.DEADLINE_EXCEEDED

    def gateway_gave_up() -> bool:
        return any(
            r.get("request_id") == request.request_id and r.get("outcome") == "DEADLINE_EXCEEDED"
            for r in gateway.log_records()
        )

    # The gateway itself stopped waiting for Graph (it did not hang on after the caller left).
    assert wait_for(gateway_gave_up, within_s=4)
    # The delayed create still lands in the emulator; let it, before the next test counts.
    assert wait_for(emulator.answered_everything, within_s=10)


def test_a_503_without_retry_after_on_a_create_is_never_resent(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    """Only throttling proves Graph did nothing: this 503 came after the create applied."""
    emulator.fault_on_create(
        kind="apply_then_status",
        status=503,
        code="serviceNotAvailable",
    )
    created_before = emulator.counters()["sessions_created"]
    posts_before = emulator.posts_to_create()
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("rp-1"), timeout=10)
    assert failure.value.code() == C.UNAVAILABLE
    assert error_info(failure.value).metadata["may_have_applied"] == "true"
    assert emulator.posts_to_create() == posts_before + 1
    assert emulator.counters()["sessions_created"] == created_before + 1


def test_too_many_active_sessions_is_a_definite_refusal(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    session = stub.CreateRestoreSession(create_request("rp-1"), timeout=10)
    emulator.fault(
        kind="status",
        method="POST",
        path=f"/restoreSessions/{session.id}/activate$",
        status=500,
        code="TooManyActiveRestoreSessions",
    )
    with pytest.raises(grpc.RpcError) as failure:
        stub.ActivateRestoreSession(
            service_pb.ActivateRestoreSessionRequest(
                restore_session_id=session.id, request_id=create_request().request_id
            ),
            timeout=10,
        )
    assert failure.value.code() == C.RESOURCE_EXHAUSTED
    assert "may_have_applied" not in error_info(failure.value).metadata
    assert retry_delay_s(failure.value) is not None
