"""Creates on a Graph whose restoreSessions lists lag (the realistic profile): what an
interrupted attempt made is found by the id its request record holds, not in the lists,
so a retry carries on in that session instead of making a second one; an empty draft
whose create Graph did not do is sent again once the lists, across their lag, show none."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from graphrestore.v1 import exchange_restore_service_pb2_grpc as exchange_grpc
from helpers import bulk_by_email, create_request
from processes import own_gateway, running_emulator

# Nothing by chance: only the fault each test scripts, with lists that lag.
QUIET = (
    *("--profile", "realistic"),
    *("--realistic-unavailable-share", "0", "--realistic-gateway-timeout-share", "0"),
    *("--realistic-artifact-failure-share", "0"),
)
DRIVE_SESSION = "/oneDriveForBusinessRestoreSessions/[^/]+$"
DRIVE_SESSIONS = "/v1.0/solutions/backupRestore/oneDriveForBusinessRestoreSessions"


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


def test_a_bulk_create_whose_empty_draft_graph_did_not_make_is_sent_again_by_the_gateway(
    tmp_path: Path,
) -> None:
    """The empty session of a bulk create is answered 503 before Graph made it. The
    gateway looks at the lists across their lag (1 s here), finds no draft, and sends
    the create again itself: the caller's one call gets its bulk request, in the one
    session Graph holds."""
    with (
        running_emulator(
            tmp_path / "emulator", *QUIET, "--seed-drives", "2", "--realistic-list-lag-s", "1"
        ) as emulator,
        own_gateway(emulator.gateway_env()) as (_, stub),
    ):
        emulator.fault(
            kind="status",
            method="POST",
            path="/oneDriveForBusinessRestoreSessions$",
            status=503,
            code="serviceNotAvailable",
            retry_after_s=1,
        )
        bulk = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
            bulk_by_email("user00001@contoso.com"), timeout=30
        )
        journal = emulator.journal()
        sessions = emulator.control.get("/_emulator/sessions").json()["sessions"]
    creates = [r for r in journal if (r["method"], r["path"]) == ("POST", DRIVE_SESSIONS)]
    lists = [r for r in journal if (r["method"], r["path"]) == ("GET", DRIVE_SESSIONS)]
    assert len(creates) == 2  # answered 503, then made
    assert len(lists) == 2  # at once, and again once the lists show what the 503 made
    ours = [s for s in sessions if s["app_id"] == emulator.info["client_id"]]
    assert [s["id"] for s in ours] == [bulk.restore_session_id]


def test_a_lost_mailbox_draft_is_not_taken_to_be_one_the_tenant_had_before(
    tmp_path: Path,
) -> None:
    """Right after the emulator starts, an Exchange bulk create's empty draft is answered
    503 before Graph made it. The tenant's own empty drafts (made by another app before
    the emulator started) are in the lists from the first look: none of them is taken
    for the lost draft; the create is sent again and the session is the gateway app's."""
    with (
        running_emulator(
            tmp_path / "emulator", *QUIET, "--seed-mailboxes", "2", "--realistic-list-lag-s", "10"
        ) as emulator,
        own_gateway(emulator.gateway_env()) as (gateway, _),
        grpc.insecure_channel(gateway.address) as channel,
    ):
        emulator.fault(
            kind="status",
            method="POST",
            path="/exchangeRestoreSessions$",
            status=503,
            code="serviceNotAvailable",
        )
        exchange = exchange_grpc.ExchangeRestoreServiceStub(channel)
        bulk = exchange.CreateMailboxRestoreArtifactsBulkAdditionRequest(
            bulk_by_email("user00001@contoso.com", mailbox=True), timeout=60
        )
        sessions = emulator.control.get("/_emulator/sessions").json()["sessions"]
    [made] = [s for s in sessions if s["id"] == bulk.restore_session_id]
    assert made["app_id"] == emulator.info["client_id"]
    assert sum(1 for s in sessions if s["app_id"] != emulator.info["client_id"]) == 4


def test_a_lost_empty_draft_lists_show_early_is_not_sent_again(tmp_path: Path) -> None:
    """Graph makes the empty draft, answers 503, and its lists show the draft at once
    (the gateway allows them 1 s): the draft is in both looks, so nothing says Graph
    made none, and the create is not sent again; the call fails as may-have-applied."""
    with (
        running_emulator(
            tmp_path / "emulator", *QUIET, "--seed-drives", "2", "--realistic-list-lag-s", "0"
        ) as emulator,
        own_gateway({**emulator.gateway_env(), "GRAPHRESTORE_GRAPH_LIST_LAG_S": "1"}) as (
            _,
            stub,
        ),
    ):
        emulator.fault(
            kind="apply_then_status",
            method="POST",
            path="/oneDriveForBusinessRestoreSessions$",
            status=503,
            code="serviceNotAvailable",
        )
        with pytest.raises(grpc.RpcError) as lost:
            stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
                bulk_by_email("user00001@contoso.com"), timeout=30
            )
        journal = emulator.journal()
    assert lost.value.code() == grpc.StatusCode.UNAVAILABLE
    creates = [r for r in journal if (r["method"], r["path"]) == ("POST", DRIVE_SESSIONS)]
    assert len(creates) == 1
