"""A caller creates a restore session and gets Graph's session back, field for field."""

from __future__ import annotations

import json
import uuid
from typing import Any

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request, error_info, wait_for
from processes import CREATE_PATH, Emulator, Gateway

DOC_RESTORE_POINTS = (
    "1f1fccc3-a642-4f61-bf49-f37b9a888279",
    "1f1fccc3-a642-4f61-bf49-f37b9a888280",
)
# The documented create answer (graph-api.md), byte for byte as Microsoft shows it.
DOC_RESPONSE = {
    "@odata.context": "/solutions/backupRestore/$metadata"
    "#oneDriveForBusinessRestoreSession/$entity",
    "id": "959ba739-70b5-43c4-8c90-b2c22014f18b",
    "status": "draft",
    "restoreJobType": "standard",
    "restoreSessionArtifactCount": {"total": 2, "completed": 0, "inProgress": 0, "failed": 0},
    "createdBy": {
        "application": {
            "id": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
            "displayName": "Microsoft Enhanced Restore",
        },
        "user": {"id": "845457dc-4bb2-4815-bef3-8628ebd1952e", "displayName": "User1"},
    },
    "createdDateTime": "2023-03-30T12:01:03.45Z",
    "lastModifiedBy": {
        "application": {
            "id": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
            "displayName": "Microsoft Enhanced Restore",
        },
        "user": {"id": "845457dc-4bb2-4815-bef3-8628ebd1952e", "displayName": "User2"},
    },
    "lastModifiedDateTime": "2023-03-30T12:01:03.45Z",
}


def test_documented_example_round_trips_field_for_field(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    emulator.fault_on_create(kind="status", status=201, body=DOC_RESPONSE)
    session = stub.CreateRestoreSession(create_request(*DOC_RESTORE_POINTS), timeout=10)

    sent = [r for r in emulator.journal() if r["method"] == "POST" and r["path"] == CREATE_PATH][-1]
    assert json.loads(sent["body"]) == {
        "driveRestoreArtifacts": [
            {"restorePoint": {"id": DOC_RESTORE_POINTS[0]}, "destinationType": "new"},
            {"restorePoint": {"id": DOC_RESTORE_POINTS[1]}, "destinationType": "new"},
        ]
    }
    assert "include-unknown-enum-members" in sent["prefer"]
    assert sent["client_request_id"]

    expected = pb.RestoreSession(
        id="959ba739-70b5-43c4-8c90-b2c22014f18b",
        status=pb.RESTORE_SESSION_STATUS_DRAFT,
        restore_job_type=pb.RESTORE_JOB_TYPE_STANDARD,
        restore_session_artifact_count=pb.RestoreSessionArtifactCount(total=2),
        created_by=pb.IdentitySet(
            application=pb.Identity(
                id="1fec8e78-bce4-4aaf-ab1b-5451cc387264", display_name="Microsoft Enhanced Restore"
            ),
            user=pb.Identity(id="845457dc-4bb2-4815-bef3-8628ebd1952e", display_name="User1"),
        ),
        last_modified_by=pb.IdentitySet(
            application=pb.Identity(
                id="1fec8e78-bce4-4aaf-ab1b-5451cc387264", display_name="Microsoft Enhanced Restore"
            ),
            user=pb.Identity(id="845457dc-4bb2-4815-bef3-8628ebd1952e", display_name="User2"),
        ),
    )
    expected.created_date_time.FromJsonString("2023-03-30T12:01:03.450Z")
    expected.last_modified_date_time.FromJsonString("2023-03-30T12:01:03.450Z")
    assert session == expected


def test_a_caller_gets_a_draft_session_the_emulator_holds(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    created_before = emulator.counters()["sessions_created"]
    session = stub.CreateRestoreSession(
        create_request("rp-a", "rp-b", "rp-c", destination=pb.DESTINATION_TYPE_IN_PLACE), timeout=10
    )
    assert session.status == pb.RESTORE_SESSION_STATUS_DRAFT
    assert session.restore_session_artifact_count.total == 3
    assert session.id
    # As documented: Graph names its own app, not the caller's.
    assert session.created_by.application.display_name == "Microsoft Enhanced Restore"
    assert session.HasField("created_date_time")
    assert emulator.counters()["sessions_created"] == created_before + 1


def test_validate_only_checks_and_creates_nothing(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    posts_before = emulator.posts_to_create()
    request = create_request("rp-1", validate_only=True)
    answer = stub.CreateRestoreSession(request, timeout=10)
    assert answer == request.restore_session
    assert emulator.posts_to_create() == posts_before


def test_unknown_enum_members_and_broken_times_do_not_fail_the_answer(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    odd = {
        **DOC_RESPONSE,
        "status": "pausedForever",
        "restoreJobType": "granular",
        "createdDateTime": "2015-06-19T12-01-03.45Z",
        "lastModifiedDateTime": "2024-12-03T13:09:46.3725247Z",
        "restoreSessionArtifactCount": {"total": "two", "completed": 1},
    }
    emulator.fault_on_create(kind="status", status=201, body=odd)
    session = stub.CreateRestoreSession(create_request("rp-1"), timeout=10)
    assert session.status == pb.RESTORE_SESSION_STATUS_UNKNOWN_FUTURE_VALUE
    assert session.restore_job_type == pb.RESTORE_JOB_TYPE_GRANULAR
    assert not session.HasField("created_date_time")
    assert session.last_modified_date_time.ToJsonString() == "2024-12-03T13:09:46.372524700Z"
    assert session.restore_session_artifact_count == pb.RestoreSessionArtifactCount(completed=1)
    assert session.id == DOC_RESPONSE["id"]


def _rpc_line(gateway: Gateway, request_id: str) -> dict[str, Any]:
    """The gateway's log line for the RPC with this request_id (once written)."""
    assert wait_for(
        lambda: any(r.get("request_id") == request_id for r in gateway.log_records()), 5
    )
    [line] = [r for r in gateway.log_records() if r.get("request_id") == request_id]
    return line


def test_the_rpcs_log_line_names_the_graph_requests_it_made(
    emulator: Emulator, gateway: Gateway, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    """design.md: the client-request-id is logged with the RPC, and Graph's request-id."""
    request = create_request("rp-logged")
    stub.CreateRestoreSession(request, timeout=10)
    sent = [r for r in emulator.journal() if r["method"] == "POST" and r["path"] == CREATE_PATH][-1]
    line = _rpc_line(gateway, request.request_id)
    assert line["message"] == "rpc done"
    assert line["graph_client_request_ids"] == [sent["client_request_id"]]
    [graph_request_id] = line["graph_request_ids"]
    assert uuid.UUID(graph_request_id) and graph_request_id != sent["client_request_id"]

    emulator.fault_on_create(kind="status", status=400, code="badRequest")
    refused = create_request("rp-logged")
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(refused, timeout=10)
    metadata = error_info(failure.value).metadata
    line = _rpc_line(gateway, refused.request_id)
    assert line["message"] == "rpc failed"
    assert line["graph_client_request_ids"] == [metadata["client_request_id"]]
    assert line["graph_request_ids"] == [metadata["request_id"]]
