"""Red team (2026-12-03): 503s and lost answers on each kind of create, looking for a
duplicate or orphaned session. Each test states the property the gateway should keep;
those marked xfail (strict) are attacks that got through on main when written."""

from __future__ import annotations

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from helpers import error_info
from processes import CREATE_PATH, Emulator
from test_lifecycle import bulk_request

Stub = service_grpc.OneDriveRestoreServiceStub


@pytest.mark.xfail(
    strict=True,
    reason="create_bulk makes its empty session with a plain create_restore_session, "
    "not resend_unless_found: a 503 after Graph made it leaves an empty draft no one "
    "owns, and the retry makes a second session",
)
def test_a_bulk_create_answered_503_after_graph_made_its_session_leaves_one_session(
    emulator: Emulator, stub: Stub
) -> None:
    emulator.fault(
        kind="apply_then_status",
        method="POST",
        path=CREATE_PATH + "$",
        status=503,
        code="serviceNotAvailable",
        retry_after_s=0.2,
    )
    before = emulator.counters()["sessions_created"]
    request = bulk_request(drives=["user00001@contoso.com"])
    try:
        bulk = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(request, timeout=30)
    except grpc.RpcError as error:
        print(f"first attempt: {error.code()} {dict(error_info(error).metadata)}")
        bulk = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(request, timeout=30)
    made = emulator.counters()["sessions_created"] - before
    print(f"sessions Graph made for one bulk request: {made}")
    assert bulk.restore_session_id
    assert made == 1
