"""A caller limited by its policy (to protection units, or to destinations), allowed
every session ("any"), tries to change a session that holds what it may not restore:
through a stale record of what the session holds (records/holdings.py), a bulk request
Graph has not resolved yet, and the restore point -> unit cache (access/facts.py), whose
cost must not tell which restore points exist. Found by the red team (2026-12-03)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from browsing import BrowseGateway, Rule, start_browse_gateway
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request, error_info
from processes import Emulator, running_emulator
from test_lifecycle import bulk_request

MINE = "rp-redteam-mine"
OTHERS = "rp-redteam-others"
# An id no restore point has (the emulator knows ids of its test prefixes only).
NOWHERE = "zz-redteam-nowhere"


def unit_of(emulator: Emulator, point_id: str) -> str:
    with emulator.graph_client() as graph:
        return str(graph.get(f"/restorePoints/{point_id}/protectionUnit").json()["id"])


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[BrowseGateway]:
    """`admin` may do anything to any session; `bound` may change any session whose
    contents are all of MINE's unit."""
    with running_emulator(tmp_path / "emulator") as emulator:
        rules = {
            "admin": Rule("spiffe://corp/ns/ops/sa/admin", sessions="any"),
            "bound": Rule(
                "spiffe://corp/ns/hr/sa/bound", sessions="any", units=(unit_of(emulator, MINE),)
            ),
        }
        (tmp_path / "gateway").mkdir()
        gateway = start_browse_gateway(emulator, tmp_path / "gateway", rules)
        try:
            yield gateway
        finally:
            assert gateway.mtls.gateway.stop() == 0


def activation_refused(gateway: BrowseGateway, session_id: str) -> grpc.RpcError:
    with gateway.stubs("bound") as bound, pytest.raises(grpc.RpcError) as refused:
        bound.onedrive.ActivateRestoreSession(
            service_pb.ActivateRestoreSessionRequest(
                restore_session_id=session_id, request_id=str(uuid.uuid4())
            ),
            timeout=20,
        )
    return refused.value


def add(
    stub: object, session_id: str, *points: str, destination: int = pb.DESTINATION_TYPE_NEW
) -> service_pb.AddDriveRestoreArtifactsResponse:
    return stub.AddDriveRestoreArtifacts(  # type: ignore[attr-defined]
        service_pb.AddDriveRestoreArtifactsRequest(
            restore_session_id=session_id,
            drive_restore_artifacts=[
                pb.DriveRestoreArtifact(
                    restore_point=pb.RestorePoint(id=p), destination_type=destination
                )
                for p in points
            ],
            request_id=str(uuid.uuid4()),
        ),
        timeout=20,
    )


def artifacts_of(stub: object, session_id: str) -> dict[str, str]:
    """Restore point id -> artifact id, as Graph lists them."""
    listed = stub.ListDriveRestoreArtifacts(  # type: ignore[attr-defined]
        service_pb.ListDriveRestoreArtifactsRequest(restore_session_id=session_id), timeout=20
    ).drive_restore_artifacts
    return {a.restore_point.id: a.id for a in listed}


def assert_others_unit_refused(error: grpc.RpcError) -> None:
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED, error.details()
    assert error_info(error).reason == "PROTECTION_UNIT_NOT_ALLOWED"


def test_a_refused_add_and_a_lost_add_answer_leave_no_record_hiding_another_unit(
    lab: BrowseGateway,
) -> None:
    """Graph refused one addition (the record holds one item more than the session) and
    applied another whose answer was lost (504): were that one recorded only after its
    answer, the counts would meet with OTHERS hidden. Recorded before the PATCH, it is
    there."""
    emulator = lab.emulator
    with lab.stubs("admin") as admin:
        session = admin.onedrive.CreateRestoreSession(create_request(MINE), timeout=20)
        # MINE again, in place: an item of MINE's unit the record gains and Graph refuses.
        emulator.fault(kind="status", method="PATCH", path=f"/{session.id}$", status=400)
        with pytest.raises(grpc.RpcError):
            add(admin.onedrive, session.id, MINE, destination=pb.DESTINATION_TYPE_IN_PLACE)
        emulator.fault(
            kind="apply_then_status", method="PATCH", path=f"/{session.id}$", status=504, times=5
        )
        with pytest.raises(grpc.RpcError):
            add(admin.onedrive, session.id, OTHERS)
        emulator.clear_faults()
        assert set(artifacts_of(admin.onedrive, session.id)) == {MINE, OTHERS}
    assert_others_unit_refused(activation_refused(lab, session.id))


def unit_lookups(emulator: Emulator, since: int) -> int:
    return sum(1 for r in emulator.journal()[since:] if r["path"].endswith("/protectionUnit"))


def test_a_bound_caller_cannot_tell_an_existing_point_from_none_by_cost(
    lab: BrowseGateway,
) -> None:
    emulator = lab.emulator
    costs: dict[str, list[int]] = {}
    with lab.stubs("bound") as bound:
        for point in (OTHERS, NOWHERE):
            costs[point] = []
            for _ in range(2):
                since = len(emulator.journal())
                with pytest.raises(grpc.RpcError) as refused:
                    bound.onedrive.CreateRestoreSession(create_request(point), timeout=20)
                assert_others_unit_refused(refused.value)
                costs[point].append(unit_lookups(emulator, since))
    print(f"Graph unit lookups per refused create, twice each: {costs}")
    assert costs[OTHERS] == costs[NOWHERE]


@pytest.fixture
def slow_bulk_lab(tmp_path: Path) -> Iterator[BrowseGateway]:
    """As `lab`, on an emulator whose bulk requests resolve an hour (on its clock) after
    they are made, as Graph's resolve in the background; no other fault. `new_only` may
    change any session that restores to new locations only."""
    quiet = [
        "--profile=realistic",
        "--realistic-throttle-requests=1000000",
        "--realistic-unavailable-share=0",
        "--realistic-gateway-timeout-share=0",
        "--realistic-list-lag-s=0",
        "--realistic-artifact-failure-share=0",
        "--realistic-bulk-resolve-base-s=3600",
        "--seed-drives=3",
    ]
    with running_emulator(tmp_path / "emulator", *quiet) as emulator:
        rules = {
            "admin": Rule("spiffe://corp/ns/ops/sa/admin", sessions="any"),
            "bound": Rule(
                "spiffe://corp/ns/hr/sa/bound", sessions="any", units=(unit_of(emulator, MINE),)
            ),
            "new_only": Rule(
                "spiffe://corp/ns/hr/sa/new-only", sessions="any", destinations=("new",)
            ),
        }
        (tmp_path / "gateway").mkdir()
        gateway = start_browse_gateway(emulator, tmp_path / "gateway", rules)
        try:
            yield gateway
        finally:
            assert gateway.mtls.gateway.stop() == 0


def test_a_bound_caller_cannot_activate_a_session_whose_bulk_request_is_not_resolved(
    slow_bulk_lab: BrowseGateway,
) -> None:
    emulator = slow_bulk_lab.emulator
    drive = "user00001@contoso.com"  # seeded: user00000.. (--seed-drives)
    with slow_bulk_lab.stubs("admin") as admin:
        bulk = admin.onedrive.CreateDriveRestoreArtifactsBulkAdditionRequest(
            bulk_request(drives=[drive]), timeout=30
        )
    session_id = bulk.restore_session_id
    try:
        with slow_bulk_lab.stubs("bound") as bound:
            bound.onedrive.ActivateRestoreSession(
                service_pb.ActivateRestoreSessionRequest(
                    restore_session_id=session_id, request_id=str(uuid.uuid4())
                ),
                timeout=20,
            )
    except grpc.RpcError as refused:
        # Graph does not say which drives a bulk request holds until it has run.
        assert refused.code() == grpc.StatusCode.PERMISSION_DENIED, refused.details()
        assert error_info(refused).reason == "SESSION_CONTENTS_UNKNOWN"
        return
    emulator.advance_clock(3601)
    with slow_bulk_lab.stubs("admin") as admin:
        held = artifacts_of(admin.onedrive, session_id)
        status = admin.onedrive.GetRestoreSession(
            service_pb.GetRestoreSessionRequest(restore_session_id=session_id), timeout=20
        ).status
    now = pb.RestoreSessionStatus.Name(status)
    print(f"bound activated {session_id}: now {now}, holding {held}")
    pytest.fail(f"bound activated a session that now restores {drive}'s drive ({held})")


def test_a_caller_limited_to_new_locations_is_checked_on_the_bulk_request_s_destination(
    slow_bulk_lab: BrowseGateway,
) -> None:
    """A caller limited by destination only: a bulk session is checked on the destination
    its bulk request names, which Graph gives (unlike the drives it will restore)."""
    made = {}
    with slow_bulk_lab.stubs("admin") as admin:
        for destination in (pb.DESTINATION_TYPE_IN_PLACE, pb.DESTINATION_TYPE_NEW):
            request = bulk_request(drives=["user00001@contoso.com"])
            request.bulk_addition_request.destination_type = destination
            bulk = admin.onedrive.CreateDriveRestoreArtifactsBulkAdditionRequest(
                request, timeout=30
            )
            made[destination] = bulk.restore_session_id
    activate = service_pb.ActivateRestoreSessionRequest
    with slow_bulk_lab.stubs("new_only") as new_only:
        with pytest.raises(grpc.RpcError) as refused:
            new_only.onedrive.ActivateRestoreSession(
                activate(
                    restore_session_id=made[pb.DESTINATION_TYPE_IN_PLACE],
                    request_id=str(uuid.uuid4()),
                ),
                timeout=20,
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_info(refused.value).reason == "DESTINATION_TYPE_NOT_ALLOWED"
        new_only.onedrive.ActivateRestoreSession(
            activate(
                restore_session_id=made[pb.DESTINATION_TYPE_NEW], request_id=str(uuid.uuid4())
            ),
            timeout=20,
        )
