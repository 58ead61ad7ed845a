"""Bad requests are refused with INVALID_ARGUMENT naming each bad field; Graph never sees them."""

from __future__ import annotations

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request, details
from processes import CREATE_PATH, Emulator

ARTIFACTS = "restore_session.drive_restore_artifacts"


def mixed_destinations() -> service_pb.CreateRestoreSessionRequest:
    request = create_request("rp-1", "rp-2")
    request.restore_session.drive_restore_artifacts[
        1
    ].destination_type = pb.DESTINATION_TYPE_IN_PLACE
    return request


def with_request_id(request_id: str) -> service_pb.CreateRestoreSessionRequest:
    request = create_request("rp-1")
    request.request_id = request_id
    return request


BAD_REQUESTS = {
    "no session": (service_pb.CreateRestoreSessionRequest(), ["restore_session"]),
    "no artifacts": (create_request(), [ARTIFACTS]),
    "empty restore point id": (create_request(""), [f"{ARTIFACTS}[0].restore_point.id"]),
    "slash in id": (create_request("rp/../x"), [f"{ARTIFACTS}[0].restore_point.id"]),
    "space in id": (create_request("rp 1"), [f"{ARTIFACTS}[0].restore_point.id"]),
    "id too long": (create_request("a" * 257), [f"{ARTIFACTS}[0].restore_point.id"]),
    "duplicate restore point": (
        create_request("rp-1", "rp-2", "rp-1"),
        [f"{ARTIFACTS}[2].restore_point.id"],
    ),
    "destination unset": (
        create_request("rp-1", destination=pb.DESTINATION_TYPE_UNSPECIFIED),
        [f"{ARTIFACTS}[0].destination_type"],
    ),
    "destination unknown": (
        create_request("rp-1", destination=pb.DESTINATION_TYPE_UNKNOWN_FUTURE_VALUE),
        [f"{ARTIFACTS}[0].destination_type"],
    ),
    "mixed destinations": (mixed_destinations(), [f"{ARTIFACTS}[1].destination_type"]),
    "more than one session holds": (
        create_request(*(f"rp-{i}" for i in range(10_001))),
        [ARTIFACTS],
    ),
    "request id not a uuid": (with_request_id("retry-1"), ["request_id"]),
    "dot id": (create_request("."), [f"{ARTIFACTS}[0].restore_point.id"]),
    "dot-dot id": (create_request(".."), [f"{ARTIFACTS}[0].restore_point.id"]),
    "id ending in a newline": (create_request("rp-1\n"), [f"{ARTIFACTS}[0].restore_point.id"]),
    **{
        f"request id {name}": (with_request_id(spelling), ["request_id"])
        for name, spelling in (
            ("without hyphens", "7c9e667974254" + "0de944be07fc1f90ae7"),
            ("in braces", "{7c9e6679-7425-40de-944b-e07fc1f90ae7}"),
            ("as a urn", "urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7"),
            ("with non-ASCII digits", "7c9e6679-7425-40de-944b-e07fc1f90ae\u0667"),
        )
    },
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_input_is_invalid_argument_and_never_reaches_graph(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub, case: str
) -> None:
    request, bad_fields = BAD_REQUESTS[case]
    posts_before = emulator.posts_to_create()
    for validate_only in (False, True):
        request.validate_only = validate_only
        with pytest.raises(grpc.RpcError) as failure:
            stub.CreateRestoreSession(request, timeout=10)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        violations = details(failure.value)["BadRequest"].field_violations  # type: ignore[attr-defined]
        assert [v.field for v in violations] == bad_fields
        assert all(v.description for v in violations)
    assert emulator.posts_to_create() == posts_before


def test_fifty_artifacts_go_in_one_graph_call(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    patches_before = emulator.counters()["received"].get(f"PATCH {CREATE_PATH}/{{id}}", 0)
    session = stub.CreateRestoreSession(create_request(*(f"rp-{i}" for i in range(50))), timeout=10)
    assert session.restore_session_artifact_count.total == 50
    assert emulator.counters()["received"].get(f"PATCH {CREATE_PATH}/{{id}}", 0) == patches_before


def test_graphs_unusual_restore_point_ids_are_accepted(
    stub: service_grpc.OneDriveRestoreServiceStub,
) -> None:
    session = stub.CreateRestoreSession(
        create_request("cdf4a823-sfde-ki2s-kmsj-clu2nsdk43ga", "a.b_c=d"), timeout=10
    )
    assert session.restore_session_artifact_count.total == 2


PATH_IDS = ["", ".", "..", "...", "x\n", "a/b", "%2e%2e", "x" * 100_000]


@pytest.mark.parametrize("session_id", PATH_IDS, ids=repr)
def test_ids_that_could_escape_their_path_never_reach_graph(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub, session_id: str
) -> None:
    received = sum(emulator.counters()["received"].values())
    request_id = create_request().request_id
    calls = [
        (
            stub.GetRestoreSession,
            service_pb.GetRestoreSessionRequest(restore_session_id=session_id),
        ),
        (
            stub.DeleteRestoreSession,
            service_pb.DeleteRestoreSessionRequest(
                restore_session_id=session_id, request_id=request_id
            ),
        ),
        (
            stub.AddDriveRestoreArtifacts,
            service_pb.AddDriveRestoreArtifactsRequest(
                restore_session_id=session_id,
                drive_restore_artifacts=create_request(
                    "rp-1"
                ).restore_session.drive_restore_artifacts,
                request_id=request_id,
            ),
        ),
        (
            stub.ListDriveRestoreArtifacts,
            service_pb.ListDriveRestoreArtifactsRequest(restore_session_id=session_id),
        ),
    ]
    for method, request in calls:
        with pytest.raises(grpc.RpcError) as failure:
            method(request, timeout=10)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # A refusal quotes little of what it was sent, whatever the size of the input.
        assert len(failure.value.details() or "") < 2048
    with pytest.raises(grpc.RpcError) as failure:
        next(
            stub.WatchRestoreSession(
                service_pb.WatchRestoreSessionRequest(restore_session_id=session_id), timeout=10
            )
        )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sum(emulator.counters()["received"].values()) == received


def test_a_request_id_in_upper_case_is_the_same_request(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    first = create_request("rp-case-1")
    posts_before = emulator.posts_to_create()
    created = stub.CreateRestoreSession(first, timeout=10)
    first.request_id = first.request_id.upper()
    assert stub.CreateRestoreSession(first, timeout=10).id == created.id
    assert emulator.posts_to_create() == posts_before + 1


def test_an_answer_names_the_first_twenty_violations_and_counts_them_all(
    stub: service_grpc.OneDriveRestoreServiceStub,
) -> None:
    """All 200 named, the answer's trailers were 27 KB: the caller's gRPC library dropped
    them (over 8 KB) and the call failed RESOURCE_EXHAUSTED, saying nothing of the ids."""
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request(*(f"rp {i}" for i in range(200))), timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = details(failure.value)["BadRequest"].field_violations  # type: ignore[attr-defined]
    named = [f"{ARTIFACTS}[{i}].restore_point.id" for i in range(20)]
    assert [v.field for v in violations] == named
    assert (failure.value.details() or "").startswith(
        f"invalid request: 200 violations, the first 20: {ARTIFACTS}[0].restore_point.id"
    )


def test_a_million_tags_are_one_violation(stub: service_grpc.OneDriveRestoreServiceStub) -> None:
    """Read one by one, they were a million violations: seconds of the event loop, and an
    answer no caller's gRPC library takes."""
    search = service_pb.SearchRestorePointsRequest(
        protection_unit_ids=["unit-1"], tags=[pb.RESTORE_POINT_TAG_UNKNOWN_FUTURE_VALUE] * 1_000_000
    )
    with pytest.raises(grpc.RpcError) as failure:
        stub.SearchRestorePoints(search, timeout=30)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = details(failure.value)["BadRequest"].field_violations  # type: ignore[attr-defined]
    assert "tags" in [v.field for v in violations]
