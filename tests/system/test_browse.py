"""Browse sessions through the gateway: a caller browses a drive as it was, page by page;
a browse session is its caller's (another caller's is NOT_FOUND, and never restored
from); a caller bound to units never browses another unit; browsing is a method of its
own in the policy; a lost create answer is found again by the point it browses, and an
expired browse session asks the caller to browse again. Nothing reaches Graph on a
refusal. This module moves its own emulator's clock by days."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
from browsing import (
    BROWSE_METHODS,
    EVERY_METHOD,
    GRAPH,
    BrowseGateway,
    Rule,
    browse,
    create_browse_session,
    created,
    drive_units,
    every_item,
    fast_point,
    items_request,
    start_browse_gateway,
    walk,
)
from graphrestore.v1 import browse_session_pb2 as browse_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from helpers import error_info
from processes import Emulator, running_emulator

BROWSE_SESSIONS = f"{GRAPH}/oneDriveForBusinessBrowseSessions"
GRANULAR = "granular_drive_restore_artifacts"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    seeds = ("--seed-drives", "3", "--seed-sites", "2")
    with running_emulator(tmp_path_factory.mktemp("browse-lab"), *seeds) as emulator:
        yield emulator
        refused = emulator.counters()["schema_refusals"]
        assert not [r for r in refused if r["client_request_id"]], refused


@pytest.fixture(scope="module")
def units(lab: Emulator) -> list[str]:
    return [unit["id"] for unit in drive_units(lab)]


@pytest.fixture(scope="module")
def gateway(
    lab: Emulator, units: list[str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowseGateway]:
    restoring_only = tuple(m for m in EVERY_METHOD if m not in BROWSE_METHODS)
    rules = {
        "alice": Rule("spiffe://corp/ns/ir/sa/alice"),
        "bob": Rule("spiffe://corp/ns/ir/sa/bob"),
        "auditor": Rule("spiffe://corp/ns/ir/sa/auditor", sessions="any"),
        "bound": Rule("spiffe://corp/ns/hr/sa/bound", units=(units[0],)),
        "bound-any": Rule("spiffe://corp/ns/hr/sa/bound-any", units=(units[0],), sessions="any"),
        "restorer": Rule("spiffe://corp/ns/ir/sa/restorer", methods=restoring_only),
    }
    started = start_browse_gateway(lab, tmp_path_factory.mktemp("browse"), rules)
    yield started
    assert started.mtls.gateway.stop() == 0


def refusal(error: pytest.ExceptionInfo[grpc.RpcError]) -> tuple[grpc.StatusCode, str]:
    return error.value.code(), error_info(error.value).reason


def test_a_caller_browses_a_drive_down_to_a_folder_page_by_page(
    gateway: BrowseGateway, lab: Emulator, units: list[str]
) -> None:
    with gateway.stubs("alice") as alice:
        service = alice.onedrive
        point = fast_point(service, units[1])
        session = created(service, lab, point)
        assert session.restore_point_id == point
        assert session.backup_size_in_bytes > 0
        assert session.expiration_date_time.seconds > session.created_date_time.seconds
        listed = service.ListBrowseSessions(service_pb.ListBrowseSessionsRequest(), timeout=20)
        [mine] = [s for s in listed.browse_sessions if s.id == session.id]
        assert mine.restore_point_id == point
        [top] = every_item(service, session.id)
        assert top.type == browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_SITE
        documents = walk(service, session.id, "Documents")
        names = {item.name for item in every_item(service, session.id, documents)}
        assert {"Finance", "Contracts", "Projects", "Photos", "readme.txt"} <= names
        photos = walk(service, session.id, "Documents", "Photos")
        first = browse(service, session.id, photos)
        assert first.next_page_token  # more photos than Graph's page
        every_photo = every_item(service, session.id, photos)
        assert len(every_photo) == photos.items_count > len(first.items)
        assert len({item.item_key for item in every_photo}) == len(every_photo)
        some = browse(service, session.id, photos, name_contains="img_000")
        assert {item.name for item in some.items} == {f"IMG_000{n}.jpg" for n in range(1, 10)}
        # A location the live session does not hold is Graph's 404, not an expiry.
        nowhere = browse_pb.BrowseQueryResponseItem(
            item_key=",".join(str(uuid.uuid4()) for _ in range(3)),
            type=browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_FOLDER,
        )
        with pytest.raises(grpc.RpcError) as missing:
            browse(service, session.id, nowhere)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        since = len(lab.journal())
        # A page token continues only the query it was issued for.
        with pytest.raises(grpc.RpcError) as other_query:
            browse(
                service, session.id, photos, name_contains="IMG", page_token=first.next_page_token
            )
        with pytest.raises(grpc.RpcError) as quoted:
            browse(service, session.id, photos, name_contains="x') or (name -contains '")
    assert refusal(other_query)[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert refusal(quoted)[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert not gateway.graph_calls(since, "rowseSessions")


def test_another_callers_browse_session_is_not_found_and_never_restored_from(
    gateway: BrowseGateway, lab: Emulator, units: list[str]
) -> None:
    with gateway.stubs("alice") as alice:
        session = created(alice.onedrive, lab, fast_point(alice.onedrive, units[1]))
        documents = walk(alice.onedrive, session.id, "Documents")
        readme = walk(alice.onedrive, session.id, "Documents", "readme.txt")
        alices = alice.onedrive.CreateRestoreSession(
            items_request(GRANULAR, session.id, readme), timeout=20
        )
    since = len(lab.journal())
    get = service_pb.GetBrowseSessionRequest(browse_session_id=session.id)
    restore = items_request(GRANULAR, session.id, readme)
    with gateway.stubs("bob") as bob:
        for call in (
            lambda: bob.onedrive.GetBrowseSession(get, timeout=20),
            lambda: browse(bob.onedrive, session.id),
            lambda: browse(bob.onedrive, session.id, documents),
        ):
            with pytest.raises(grpc.RpcError) as hidden:
                call()
            assert refusal(hidden) == (grpc.StatusCode.NOT_FOUND, "BROWSE_SESSION_NOT_FOUND")
        listed = bob.onedrive.ListBrowseSessions(service_pb.ListBrowseSessionsRequest(), timeout=20)
        assert session.id not in {s.id for s in listed.browse_sessions}
        with pytest.raises(grpc.RpcError) as unseen:
            bob.onedrive.ListGranularDriveRestoreArtifacts(items_of(alices.id), timeout=20)
        assert refusal(unseen)[0] == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as borrowed:
            bob.onedrive.CreateRestoreSession(restore, timeout=20)
        assert refusal(borrowed) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "BROWSE_SESSION_NOT_CALLERS",
        )
    # A caller that sees every session reads it, but restores only from its own.
    with gateway.stubs("auditor") as auditor:
        assert auditor.onedrive.GetBrowseSession(get, timeout=20).restore_point_id
        with pytest.raises(grpc.RpcError) as not_its_own:
            auditor.onedrive.CreateRestoreSession(items_request(GRANULAR, session.id, readme))
        assert refusal(not_its_own)[1] == "BROWSE_SESSION_NOT_CALLERS"
    assert not gateway.graph_calls(since, "RestoreSessions")
    assert {r["method"] for r in gateway.graph_calls(since, "rowseSessions")} == {"GET"}
    denied = [r for r in gateway.audit() if r["request_id"] == restore.request_id]
    assert [(r["decision"], r["reason"]) for r in denied] == [
        ("denied", "BROWSE_SESSION_NOT_CALLERS")
    ]


def test_a_unit_bound_caller_cannot_browse_or_restore_another_unit(
    gateway: BrowseGateway, lab: Emulator, units: list[str]
) -> None:
    with gateway.stubs("alice") as alice:
        others = created(alice.onedrive, lab, fast_point(alice.onedrive, units[1]))
        readme = walk(alice.onedrive, others.id, "Documents", "readme.txt")
        alices = alice.onedrive.CreateRestoreSession(
            items_request(GRANULAR, others.id, readme), timeout=20
        )
    with gateway.stubs("bound") as bound:
        own_point = fast_point(bound.onedrive, units[0])
        since = len(lab.journal())
        with pytest.raises(grpc.RpcError) as outside:
            create_browse_session(bound.onedrive, fast_point_of(lab, units[1]))
        assert refusal(outside) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PROTECTION_UNIT_NOT_ALLOWED",
        )
        assert not [r for r in gateway.graph_calls(since, "rowseSessions")]
        own = created(bound.onedrive, lab, own_point)
        assert own.restore_point_id == own_point
        # What its granular session holds is recorded: its own unit, so it may start it.
        mine = bound.onedrive.CreateRestoreSession(
            items_request(GRANULAR, own.id, walk(bound.onedrive, own.id, "Documents", "Finance")),
            timeout=20,
        )
        bound.onedrive.ActivateRestoreSession(activate(mine.id), timeout=20)
    with gateway.stubs("bound-any") as bound_any:
        since = len(lab.journal())
        get = service_pb.GetBrowseSessionRequest(browse_session_id=others.id)
        for call in (
            lambda: bound_any.onedrive.GetBrowseSession(get, timeout=20),
            lambda: browse(bound_any.onedrive, others.id),
        ):
            with pytest.raises(grpc.RpcError) as refused:
                call()
            assert refusal(refused) == (
                grpc.StatusCode.PERMISSION_DENIED,
                "PROTECTION_UNIT_NOT_ALLOWED",
            )
        # A browse session the gateway never made: its unit is unknown, so refused the
        # same way, and Graph is not asked.
        unknown = service_pb.GetBrowseSessionRequest(browse_session_id=str(uuid.uuid4()))
        with pytest.raises(grpc.RpcError) as unrecorded:
            bound_any.onedrive.GetBrowseSession(unknown, timeout=20)
        assert refusal(unrecorded) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PROTECTION_UNIT_NOT_ALLOWED",
        )
        assert not gateway.graph_calls(since, unknown.browse_session_id)
        listed = bound_any.onedrive.ListBrowseSessions(
            service_pb.ListBrowseSessionsRequest(), timeout=20
        )
        # Alice's granular session holds another unit's items (as recorded): neither
        # started nor shown (their names are file names of that unit).
        with pytest.raises(grpc.RpcError) as foreign:
            bound_any.onedrive.ActivateRestoreSession(activate(alices.id), timeout=20)
        assert refusal(foreign)[1] == "PROTECTION_UNIT_NOT_ALLOWED"
        with pytest.raises(grpc.RpcError) as shown:
            bound_any.onedrive.ListGranularDriveRestoreArtifacts(items_of(alices.id), timeout=20)
        assert refusal(shown)[1] == "PROTECTION_UNIT_NOT_ALLOWED"
        theirs = bound_any.onedrive.ListGranularDriveRestoreArtifacts(items_of(mine.id))
        assert len(theirs.granular_drive_restore_artifacts) == 1
    assert not gateway.graph_calls(since, f"rowseSessions/{others.id}")
    # Graph was asked what the session holds, and nothing else.
    assert {r["method"] for r in gateway.graph_calls(since, alices.id)} == {"GET"}
    assert not gateway.graph_calls(since, f"{alices.id}/activate")
    # It lists only the browse sessions it made (all on its units), not Alice's.
    assert {s.id for s in listed.browse_sessions} == set()


def activate(session_id: str) -> service_pb.ActivateRestoreSessionRequest:
    return service_pb.ActivateRestoreSessionRequest(
        restore_session_id=session_id, request_id=str(uuid.uuid4())
    )


def test_what_a_granular_session_holds_is_read_as_it_changes(
    gateway: BrowseGateway, lab: Emulator, units: list[str]
) -> None:
    """Alice's session starts with items of unit 0 and is given one of unit 1: a caller
    bound to unit 0 that sees every session may then neither start it nor read its items
    (Graph lists them as they change; what the create held would allow it). Bob may not
    add items of Alice's browse sessions to his own session."""
    with gateway.stubs("alice") as alice:
        mine = created(alice.onedrive, lab, fast_point(alice.onedrive, units[0]))
        other = created(alice.onedrive, lab, fast_point(alice.onedrive, units[1]))
        finance = walk(alice.onedrive, mine.id, "Documents", "Finance")
        readme = walk(alice.onedrive, other.id, "Documents", "readme.txt")
        session = alice.onedrive.CreateRestoreSession(
            items_request(GRANULAR, mine.id, finance), timeout=20
        )
        add = service_pb.AddGranularDriveRestoreArtifactsRequest(
            restore_session_id=session.id, request_id=str(uuid.uuid4())
        )
        add.granular_drive_restore_artifacts.add(browse_session_id=other.id, id=readme.item_key)
        added = alice.onedrive.AddGranularDriveRestoreArtifacts(add, timeout=20)
        assert [item.id for item in added.added] == [readme.item_key]
    with gateway.stubs("bound-any") as bound_any:
        since = len(lab.journal())
        with pytest.raises(grpc.RpcError) as foreign:
            bound_any.onedrive.ActivateRestoreSession(activate(session.id), timeout=20)
        assert refusal(foreign)[1] == "PROTECTION_UNIT_NOT_ALLOWED"
        with pytest.raises(grpc.RpcError) as shown:
            bound_any.onedrive.ListGranularDriveRestoreArtifacts(items_of(session.id))
        assert refusal(shown)[1] == "PROTECTION_UNIT_NOT_ALLOWED"
    assert not gateway.graph_calls(since, f"{session.id}/activate")
    with gateway.stubs("bob") as bob:
        bobs_browse = created(bob.onedrive, lab, fast_point(bob.onedrive, units[0]))
        bobs = bob.onedrive.CreateRestoreSession(
            items_request(GRANULAR, bobs_browse.id, finance), timeout=20
        )
        borrow = service_pb.AddGranularDriveRestoreArtifactsRequest(
            restore_session_id=bobs.id, request_id=str(uuid.uuid4())
        )
        borrow.granular_drive_restore_artifacts.add(browse_session_id=other.id, id=readme.item_key)
        since = len(lab.journal())
        with pytest.raises(grpc.RpcError) as borrowed:
            bob.onedrive.AddGranularDriveRestoreArtifacts(borrow, timeout=20)
        assert refusal(borrowed)[1] == "BROWSE_SESSION_NOT_CALLERS"
    assert not gateway.graph_calls(since, bobs.id)


def items_of(session_id: str) -> service_pb.ListGranularDriveRestoreArtifactsRequest:
    return service_pb.ListGranularDriveRestoreArtifactsRequest(restore_session_id=session_id)


def fast_point_of(lab: Emulator, unit_id: str) -> str:
    """A fastRestore point of a unit, found without the gateway."""
    with lab.graph_client() as graph:
        found = graph.post(
            "/restorePoints/search",
            json={
                "protectionUnitIds": [unit_id],
                "protectionTimePeriod": {"startDateTime": "2026-10-01T00:00:00Z"},
                "tags": "fastRestore",
            },
        )
    return str(found.json()["searchResults"][0]["restorePoint"]["id"])


def test_a_caller_may_restore_without_browsing(
    gateway: BrowseGateway, lab: Emulator, units: list[str]
) -> None:
    since = len(lab.journal())
    with gateway.stubs("restorer") as restorer:
        with pytest.raises(grpc.RpcError) as refused:
            create_browse_session(restorer.onedrive, fast_point_of(lab, units[2]))
        assert refusal(refused) == (grpc.StatusCode.PERMISSION_DENIED, "METHOD_NOT_ALLOWED")
        with pytest.raises(grpc.RpcError) as listing:
            restorer.onedrive.ListBrowseSessions(service_pb.ListBrowseSessionsRequest())
        assert refusal(listing)[1] == "METHOD_NOT_ALLOWED"
    assert not gateway.graph_calls(since, "rowseSessions")


def test_malformed_browse_and_item_requests_are_refused_before_graph(
    gateway: BrowseGateway, lab: Emulator
) -> None:
    key = "a," * 3 + "b"
    items = [browse_pb.BrowseQueryResponseItem(item_key=f"{key}{n}") for n in range(51)]
    mixed = items_request(GRANULAR, "bs-1", items[0])
    mixed.restore_session.drive_restore_artifacts.add().restore_point.id = "rp-1"
    since = len(lab.journal())
    with gateway.stubs("alice") as alice:
        service = alice.onedrive
        for request, field in (
            (
                service_pb.BrowseRequest(browse_session_id="bs-1", browse_location_item_key=key),
                "browse_resource_type",
            ),
            (
                service_pb.BrowseRequest(browse_session_id="bs-1", browse_resource_type=3),
                "browse_resource_type",
            ),
            (service_pb.BrowseRequest(browse_session_id="../x"), "browse_session_id"),
            (service_pb.BrowseRequest(browse_session_id="bs-1", order_by=9), "order_by"),
        ):
            with pytest.raises(grpc.RpcError) as refused:
                service.Browse(request, timeout=20)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert field in (refused.value.details() or "")
        for request in (
            items_request(GRANULAR, "bs-1", *items),
            items_request(GRANULAR, "bs-1", items[0], items[0]),
            mixed,
        ):
            with pytest.raises(grpc.RpcError) as refused:
                service.CreateRestoreSession(request, timeout=20)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.RpcError) as refused:
            create_browse_session(service, "")
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not gateway.graph_calls(since, "")


def test_a_lost_create_answer_is_found_again_by_the_point_it_browses(
    gateway: BrowseGateway, lab: Emulator, units: list[str]
) -> None:
    """Graph made the browse session but its answer was lost. Beside it: Bob's session on
    the same point (another caller's) and one on another point of the drive made
    outside the gateway (same kind, same count). The retry adopts the lost one only."""
    point = fast_point_of(lab, units[2])
    with lab.graph_client() as graph:
        found = graph.post(
            "/restorePoints/search",
            json={
                "protectionUnitIds": [units[2]],
                "protectionTimePeriod": {"startDateTime": "2026-10-01T00:00:00Z"},
                "tags": "fastRestore",
            },
        ).json()["searchResults"]
        older = found[1]["restorePoint"]["id"]
        outside = graph.post("/oneDriveForBusinessBrowseSessions", json={"restorePointId": older})
        assert outside.status_code == 201, outside.text
    with gateway.stubs("bob") as bob:
        bobs = create_browse_session(bob.onedrive, point)
    request_id = str(uuid.uuid4())
    with gateway.stubs("alice") as alice:
        lab.fault(kind="apply_then_drop", method="POST", path=f"{BROWSE_SESSIONS}$")
        with pytest.raises(grpc.RpcError) as lost:
            create_browse_session(alice.onedrive, point, request_id)
        assert lost.value.code() == grpc.StatusCode.UNAVAILABLE
        made = lab.control.get("/_emulator/browse-sessions").json()["browse_sessions"]
        [lost_id] = [s["id"] for s in made if s["restore_point_id"] == point and s["id"] != bobs.id]
        again = create_browse_session(alice.onedrive, point, request_id)
        replayed = create_browse_session(alice.onedrive, point, request_id)
    assert again.id == replayed.id == lost_id
    assert again.restore_point_id == point
    records = [r for r in gateway.audit() if r["request_id"] == request_id]
    assert [r["outcome"] for r in records] == ["UNAVAILABLE", "OK", "OK"]
    assert records[1]["browse_session_id"] == lost_id
    assert records[1]["artifacts"] == [{"restore_point_id": point}]
    after = lab.control.get("/_emulator/browse-sessions").json()["browse_sessions"]
    assert len(after) == len(made)
    assert outside.json()["id"] != again.id


def test_a_failed_create_never_takes_the_browse_session_an_earlier_pending_request_made(
    gateway: BrowseGateway, lab: Emulator, units: list[str]
) -> None:
    """Issue 20's first hole, for browse sessions: Alice's create is made in Graph, its
    answer lost; Bob asks for a browse session of the same point, gets a 500, and
    retries. Alice's request, pending, began first: the session is hers. Bob's retry is
    refused (the audit names the session and Alice's request); Alice's retry gets it,
    and no second one is made."""
    with lab.graph_client() as graph:
        found = graph.post(
            "/restorePoints/search",
            json={
                "protectionUnitIds": [units[1]],
                "protectionTimePeriod": {"startDateTime": "2026-10-01T00:00:00Z"},
                "tags": "fastRestore",
            },
        ).json()["searchResults"]
    point = found[1]["restorePoint"]["id"]  # an older one: no other test browses it
    alices = str(uuid.uuid4())
    with gateway.stubs("alice") as alice:
        lab.fault(kind="apply_then_drop", method="POST", path=f"{BROWSE_SESSIONS}$")
        with pytest.raises(grpc.RpcError) as lost:
            create_browse_session(alice.onedrive, point, alices)
        assert lost.value.code() == grpc.StatusCode.UNAVAILABLE
        made = lab.control.get("/_emulator/browse-sessions").json()["browse_sessions"]
        [hers] = [s["id"] for s in made if s["restore_point_id"] == point]
        bobs = str(uuid.uuid4())
        with gateway.stubs("bob") as bob:
            lab.fault(
                kind="status",
                method="POST",
                path=f"{BROWSE_SESSIONS}$",
                status=500,
                code="InternalServerError",
            )
            with pytest.raises(grpc.RpcError) as failed:
                create_browse_session(bob.onedrive, point, bobs)
            assert failed.value.code() == grpc.StatusCode.INTERNAL
            with pytest.raises(grpc.RpcError) as refused:
                create_browse_session(bob.onedrive, point, bobs)
        assert refusal(refused) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "RECONCILIATION_CLAIMED",
        )
        told = f"{refused.value.details()} {error_info(refused.value)}"
        assert hers not in told and alices not in told
        again = create_browse_session(alice.onedrive, point, alices)
    assert again.id == hers
    after = lab.control.get("/_emulator/browse-sessions").json()["browse_sessions"]
    assert len(after) == len(made)
    [record] = [r for r in gateway.audit() if r["request_id"] == bobs and "candidates" in r]
    assert record["candidates"] == [hers]
    [claimed_by] = record["claimed_by"]
    assert claimed_by.endswith(f"|{alices}")


def test_an_expired_browse_session_asks_the_caller_to_browse_again(
    gateway: BrowseGateway, lab: Emulator, units: list[str]
) -> None:
    """Last in this module: its emulator's clock moves past every browse session's end."""
    with gateway.stubs("alice") as alice:
        service = alice.onedrive
        session = created(service, lab, fast_point(service, units[1]))
        readme = walk(service, session.id, "Documents", "readme.txt")
        lab.advance_clock(3 * 24 * 3600)
        get = service_pb.GetBrowseSessionRequest(browse_session_id=session.id)
        for call in (
            lambda: service.GetBrowseSession(get, timeout=20),
            lambda: browse(service, session.id),
            lambda: service.CreateRestoreSession(
                items_request(GRANULAR, session.id, readme), timeout=20
            ),
        ):
            with pytest.raises(grpc.RpcError) as expired:
                call()
            assert refusal(expired) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                "BROWSE_SESSION_EXPIRED",
            )
            assert "browse again" in (expired.value.details() or "")
