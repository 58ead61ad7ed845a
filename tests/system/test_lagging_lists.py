"""Creates on a Graph whose restoreSessions lists lag (the realistic profile): what an
interrupted attempt made is found by the id its request record holds, not in the lists,
so a retry carries on in that session instead of making a second one."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from helpers import create_request
from processes import own_gateway, running_emulator

# Nothing by chance: only the fault each test scripts, with lists that lag.
QUIET = (
    *("--profile", "realistic"),
    *("--realistic-unavailable-share", "0", "--realistic-gateway-timeout-share", "0"),
    *("--realistic-artifact-failure-share", "0"),
)
DRIVE_SESSION = "/oneDriveForBusinessRestoreSessions/[^/]+$"


def test_a_create_whose_addition_graph_made_before_a_503_is_carried_on_in_its_session(
    tmp_path: Path,
) -> None:
    """60 drives: Graph makes the session with 50, takes the PATCH of the other 10 and
    answers 503. The retry (same request id) finds the session by id and ends with one
    session holding the 60, though the lists do not show it yet."""
    points = [f"rp-lagging-{index}" for index in range(60)]
    request = create_request(*points)
    with (
        running_emulator(tmp_path / "emulator", *QUIET) as emulator,
        own_gateway(emulator.gateway_env()) as (_, stub),
    ):
        emulator.fault(
            kind="apply_then_status",
            method="PATCH",
            path=DRIVE_SESSION,
            status=503,
            code="serviceNotAvailable",
        )
        with pytest.raises(grpc.RpcError) as interrupted:
            stub.CreateRestoreSession(request, timeout=30)
        assert interrupted.value.code() == grpc.StatusCode.UNAVAILABLE
        since = len(emulator.journal())
        session = stub.CreateRestoreSession(request, timeout=30)
        sessions = emulator.control.get("/_emulator/sessions").json()["sessions"]
        # Found by id: the retry read no list of sessions.
        lists = [
            r["path"]
            for r in emulator.journal()[since:]
            if r["method"] == "GET" and r["path"].lower().endswith("restoresessions")
        ]
        assert not lists
    ours = [s for s in sessions if s["app_id"] == emulator.info["client_id"]]
    assert [s["id"] for s in ours] == [session.id]
    assert sorted(ours[0]["restore_point_ids"]) == sorted(points)
    assert session.restore_session_artifact_count.total == 60
