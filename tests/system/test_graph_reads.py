"""The Graph calls a change costs: an activation of a session the gateway made sends Graph
the activation alone (its own record says the session is the workload's); one it did not
make is read first, so that another workload's session is not activated through it."""

from __future__ import annotations

import uuid

from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request
from processes import Emulator

API = "/v1.0/solutions/backupRestore"


def graph_calls_of(emulator: Emulator, since: int, session_id: str) -> list[str]:
    return [
        f"{r['method']} {r['path'].removeprefix(API)}"
        for r in emulator.journal()[since:]
        if session_id in r["path"]
    ]


def activate(stub: service_grpc.OneDriveRestoreServiceStub, session_id: str) -> pb.RestoreSession:
    request = service_pb.ActivateRestoreSessionRequest(
        restore_session_id=session_id, request_id=str(uuid.uuid4())
    )
    answer: pb.RestoreSession = stub.ActivateRestoreSession(request, timeout=10)
    return answer


def test_activating_a_session_the_gateway_made_sends_graph_the_activation_alone(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    session = stub.CreateRestoreSession(create_request("rp-reads-1"), timeout=10)
    since = len(emulator.journal())
    activate(stub, session.id)
    assert graph_calls_of(emulator, since, session.id) == [
        f"POST /restoreSessions/{session.id}/activate"
    ]


def test_a_session_made_outside_the_gateway_is_read_before_it_is_activated(
    emulator: Emulator, stub: service_grpc.OneDriveRestoreServiceStub
) -> None:
    with emulator.graph_client() as graph:
        made = graph.post(
            "/oneDriveForBusinessRestoreSessions",
            json={
                "driveRestoreArtifacts": [
                    {"restorePoint": {"id": "rp-reads-2"}, "destinationType": "new"}
                ]
            },
        )
    session_id = made.json()["id"]
    since = len(emulator.journal())
    activate(stub, session_id)
    assert graph_calls_of(emulator, since, session_id) == [
        f"GET /restoreSessions/{session_id}",
        f"POST /restoreSessions/{session_id}/activate",
    ]
