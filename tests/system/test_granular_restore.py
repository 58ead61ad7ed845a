"""Item-level restore through browse sessions: a caller browses a OneDrive or a site as it
was, picks a folder and a file, restores them and reads where each landed; items always go
to a new folder, so a caller that may restore only in place cannot restore them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc
import pytest
from browsing import (
    GRAPH,
    BrowseGateway,
    Rule,
    created,
    drive_units,
    fast_point,
    items_request,
    site_units,
    start_browse_gateway,
    walk,
)
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb
from helpers import error_info, wait_for
from processes import Emulator

ALICE = "spiffe://corp/ns/ir/sa/alice"
IN_PLACE_ONLY = "spiffe://corp/ns/ir/sa/overwriter"
DRIVE_SESSIONS = f"{GRAPH}/oneDriveForBusinessRestoreSessions"


@pytest.fixture(scope="module")
def gateway(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowseGateway]:
    rules = {
        "alice": Rule(ALICE, destinations=("new",)),
        "overwriter": Rule(IN_PLACE_ONLY, destinations=("inPlace",)),
    }
    started = start_browse_gateway(emulator, tmp_path_factory.mktemp("granular"), rules)
    yield started
    assert started.mtls.gateway.stop() == 0


def restored(
    service: Any, emulator: Emulator, session_id: str, items: Callable[[], Sequence[Any]]
) -> list[Any]:
    """Activate the session, let the emulator's clock run past its restore, and read its
    items once every one has succeeded."""
    service.ActivateRestoreSession(
        service_pb.ActivateRestoreSessionRequest(
            restore_session_id=session_id, request_id=str(uuid.uuid4())
        ),
        timeout=20,
    )
    emulator.advance_clock(31 + 5 * 60)
    assert wait_for(
        lambda: {i.status for i in items()} == {pb.ARTIFACT_RESTORE_STATUS_SUCCEEDED}, 10
    )
    return list(items())


def test_a_folder_and_a_file_of_a_drive_are_restored_and_found(
    gateway: BrowseGateway, emulator: Emulator
) -> None:
    unit = drive_units(emulator)[7]
    with gateway.stubs("alice") as alice:
        service = alice.onedrive
        browsing = created(service, emulator, fast_point(service, unit["id"]))
        finance = walk(service, browsing.id, "Documents", "Finance")
        msa = walk(service, browsing.id, "Documents", "Contracts", "msa.docx")
        request = items_request("granular_drive_restore_artifacts", browsing.id, finance, msa)
        session = service.CreateRestoreSession(request, timeout=20)
        assert session.status == pb.RESTORE_SESSION_STATUS_DRAFT
        listed = service_pb.ListGranularDriveRestoreArtifactsRequest(restore_session_id=session.id)
        items = restored(
            service,
            emulator,
            session.id,
            lambda: (
                service.ListGranularDriveRestoreArtifacts(
                    listed, timeout=20
                ).granular_drive_restore_artifacts
            ),
        )
        done = {item.id: item for item in items}
    assert set(done) == {finance.item_key, msa.item_key}
    folder = done[msa.item_key].restored_item_path
    assert folder.startswith("/Documents/Restored-")
    assert done[finance.item_key].restored_item_path == folder
    library_url = finance.web_url.removesuffix("/Finance")
    in_folder = library_url + folder.removeprefix("/Documents")
    assert done[finance.item_key].restored_item_web_url == f"{in_folder}/Finance"
    assert done[msa.item_key].restored_item_web_url == f"{in_folder}/msa.docx"
    for item in done.values():
        assert item.browse_session_id == browsing.id
        assert item.directory_object_id == unit["directoryObjectId"]
        assert item.restored_item_key
        assert item.completion_date_time.seconds >= item.start_date_time.seconds > 0


def test_a_folder_of_a_site_document_library_is_restored_and_found(
    gateway: BrowseGateway, emulator: Emulator
) -> None:
    unit = site_units(emulator)[3]
    with gateway.stubs("alice") as alice:
        service = alice.sharepoint
        browsing = created(service, emulator, fast_point(service, unit["id"]))
        assert browsing.site_id == unit["siteId"]
        projects = walk(service, browsing.id, "Documents", "Projects")
        logo = walk(service, browsing.id, "Site Assets", "logo.png")
        request = items_request("granular_site_restore_artifacts", browsing.id, projects)
        session = service.CreateRestoreSession(request, timeout=20)
        add = sharepoint_pb.AddGranularSiteRestoreArtifactsRequest(
            restore_session_id=session.id, request_id=str(uuid.uuid4())
        )
        add.granular_site_restore_artifacts.add(browse_session_id=browsing.id, id=logo.item_key)
        assert len(service.AddGranularSiteRestoreArtifacts(add, timeout=20).added) == 1
        listed = sharepoint_pb.ListGranularSiteRestoreArtifactsRequest(
            restore_session_id=session.id
        )
        items = restored(
            service,
            emulator,
            session.id,
            lambda: (
                service.ListGranularSiteRestoreArtifacts(
                    listed, timeout=20
                ).granular_site_restore_artifacts
            ),
        )
    done = {item.id: item for item in items}
    assert set(done) == {projects.item_key, logo.item_key}
    # Each library has its own restore folder.
    assert done[logo.item_key].restored_item_path.startswith("/Site Assets/Restored-")
    item = done[projects.item_key]
    assert item.id == projects.item_key
    assert item.site_id == unit["siteId"]
    assert item.restored_item_path.startswith("/Documents/Restored-")
    assert item.restored_item_web_url.endswith(f"{item.restored_item_path[10:]}/Projects")


def test_items_go_to_a_new_folder_so_an_in_place_only_caller_cannot_restore_them(
    gateway: BrowseGateway, emulator: Emulator
) -> None:
    unit = drive_units(emulator)[8]
    with gateway.stubs("overwriter") as overwriter:
        service = overwriter.onedrive
        browsing = created(service, emulator, fast_point(service, unit["id"]))
        readme = walk(service, browsing.id, "Documents", "readme.txt")
        since = len(emulator.journal())
        request = items_request("granular_drive_restore_artifacts", browsing.id, readme)
        with pytest.raises(grpc.RpcError) as refused:
            service.CreateRestoreSession(request, timeout=20)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(refused.value).reason == "DESTINATION_TYPE_NOT_ALLOWED"
    assert not gateway.graph_calls(since, "RestoreSessions")
    [record] = [r for r in gateway.audit() if r["request_id"] == request.request_id]
    assert record["decision"] == "denied"
    [named, browsed] = record["artifacts"]
    assert named["destination"] == "DESTINATION_TYPE_NEW"
    assert readme.item_key.startswith(named["item_key"])  # quoted, bounded
    assert browsed == {"browse_session_id": browsing.id}


def test_items_are_added_to_and_removed_from_a_draft(
    gateway: BrowseGateway, emulator: Emulator
) -> None:
    unit = drive_units(emulator)[10]
    with gateway.stubs("alice") as alice:
        service = alice.onedrive
        browsing = created(service, emulator, fast_point(service, unit["id"]))
        finance = walk(service, browsing.id, "Documents", "Finance")
        readme = walk(service, browsing.id, "Documents", "readme.txt")
        msa = walk(service, browsing.id, "Documents", "Contracts", "msa.docx")
        request = items_request("granular_drive_restore_artifacts", browsing.id, finance)
        session = service.CreateRestoreSession(request, timeout=20)
        add = service_pb.AddGranularDriveRestoreArtifactsRequest(
            restore_session_id=session.id, request_id=str(uuid.uuid4())
        )
        for item in (readme, finance):
            add.granular_drive_restore_artifacts.add(
                browse_session_id=browsing.id, id=item.item_key
            )
        added = service.AddGranularDriveRestoreArtifacts(add, timeout=20)
        assert [item.id for item in added.added] == [readme.item_key]
        [again] = added.failed  # the session holds it already
        assert (again.id, again.error.code) == (finance.item_key, "DuplicateArtifactInList")
        remove = service_pb.RemoveGranularDriveRestoreArtifactsRequest(
            restore_session_id=session.id,
            granular_drive_restore_artifact_ids=[finance.item_key, msa.item_key],
            request_id=str(uuid.uuid4()),
        )
        removed = service.RemoveGranularDriveRestoreArtifacts(remove, timeout=20)
        assert list(removed.removed_ids) == [finance.item_key]
        assert [item.id for item in removed.failed] == [msa.item_key]
        assert service.RemoveGranularDriveRestoreArtifacts(remove, timeout=20) == removed
        listed = service.ListGranularDriveRestoreArtifacts(
            service_pb.ListGranularDriveRestoreArtifactsRequest(restore_session_id=session.id),
            timeout=20,
        )
    assert [item.id for item in listed.granular_drive_restore_artifacts] == [readme.item_key]


def test_a_lost_create_answer_is_reconciled_by_the_items_the_draft_holds(
    gateway: BrowseGateway, emulator: Emulator
) -> None:
    """Graph made the session but its answer was lost: the retry finds that draft by its
    items (browse session and key each), and makes no second one."""
    unit = drive_units(emulator)[9]
    with gateway.stubs("alice") as alice:
        service = alice.onedrive
        browsing = created(service, emulator, fast_point(service, unit["id"]))
        finance = walk(service, browsing.id, "Documents", "Finance")
        readme = walk(service, browsing.id, "Documents", "readme.txt")
        msa = walk(service, browsing.id, "Documents", "Contracts", "msa.docx")
        # Another draft of the same browse session, made outside the gateway, of two
        # items too: the count does not tell them apart, the items do.
        with emulator.graph_client() as graph:
            outside = graph.post(
                "/oneDriveForBusinessRestoreSessions",
                json={
                    "granularDriveRestoreArtifacts": [
                        {"browseSessionId": browsing.id, "id": item.item_key}
                        for item in (finance, msa)
                    ]
                },
            )
            assert outside.status_code == 201, outside.text
        request = items_request("granular_drive_restore_artifacts", browsing.id, finance, readme)
        emulator.fault(kind="apply_then_drop", method="POST", path=f"{DRIVE_SESSIONS}$")
        with pytest.raises(grpc.RpcError) as lost:
            service.CreateRestoreSession(request, timeout=20)
        assert lost.value.code() == grpc.StatusCode.UNAVAILABLE
        posts = emulator.counters()["received"][f"POST {DRIVE_SESSIONS}"]
        session = service.CreateRestoreSession(request, timeout=20)
        assert emulator.counters()["received"][f"POST {DRIVE_SESSIONS}"] == posts
        again = service.CreateRestoreSession(request, timeout=20)
    assert again.id == session.id != outside.json()["id"]
    held = emulator.control.get("/_emulator/sessions").json()["sessions"]
    [record] = [s for s in held if s["id"] == session.id]
    assert sorted(record["artifact_ids"]) == sorted([finance.item_key, readme.item_key])


def test_a_failed_create_never_takes_the_draft_an_earlier_pending_request_made(
    gateway: BrowseGateway, emulator: Emulator
) -> None:
    """Issue 20's first hole, for granular drive sessions: one create of two items is made
    in Graph, its answer lost; a second request for the same items gets a 500 and
    retries. The first, pending, began first: the draft is its. The second's retry is
    refused (the audit names the draft and the first request); the first's retry gets
    the draft, and no second session is made."""
    unit = drive_units(emulator)[11]
    with gateway.stubs("alice") as alice:
        service = alice.onedrive
        browsing = created(service, emulator, fast_point(service, unit["id"]))
        finance = walk(service, browsing.id, "Documents", "Finance")
        readme = walk(service, browsing.id, "Documents", "readme.txt")
        first = items_request("granular_drive_restore_artifacts", browsing.id, finance, readme)
        emulator.fault(kind="apply_then_drop", method="POST", path=f"{DRIVE_SESSIONS}$")
        with pytest.raises(grpc.RpcError) as lost:
            service.CreateRestoreSession(first, timeout=20)
        assert lost.value.code() == grpc.StatusCode.UNAVAILABLE
        posts = emulator.counters()["received"][f"POST {DRIVE_SESSIONS}"]
        second = items_request("granular_drive_restore_artifacts", browsing.id, readme, finance)
        emulator.fault(
            kind="status",
            method="POST",
            path=f"{DRIVE_SESSIONS}$",
            status=500,
            code="InternalServerError",
        )
        with pytest.raises(grpc.RpcError) as failed:
            service.CreateRestoreSession(second, timeout=20)
        assert failed.value.code() == grpc.StatusCode.INTERNAL
        with pytest.raises(grpc.RpcError) as refused:
            service.CreateRestoreSession(second, timeout=20)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error_info(refused.value).reason == "RECONCILIATION_CLAIMED"
        session = service.CreateRestoreSession(first, timeout=20)
        posts_after = emulator.counters()["received"][f"POST {DRIVE_SESSIONS}"]
    assert posts_after == posts + 1  # the 500'd one only: no second session
    [record] = [
        r for r in gateway.audit() if r["request_id"] == second.request_id and "candidates" in r
    ]
    assert record["candidates"] == [session.id]
    [claimed_by] = record["claimed_by"]
    assert claimed_by.endswith(f"|{first.request_id}")
    told = f"{refused.value.details()} {error_info(refused.value)}"
    assert session.id not in told and first.request_id not in told
