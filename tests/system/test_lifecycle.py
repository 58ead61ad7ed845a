"""A caller takes a restore from draft to done over gRPC, on the emulator's clock."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import uuid
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request, details, error_info, retry_delay_s
from processes import CREATE_PATH, Emulator

Stub = service_grpc.OneDriveRestoreServiceStub
S = pb.RestoreSessionStatus


def new_artifacts(*points: str) -> list[pb.DriveRestoreArtifact]:
    return [
        pb.DriveRestoreArtifact(
            restore_point=pb.RestorePoint(id=p), destination_type=pb.DESTINATION_TYPE_NEW
        )
        for p in points
    ]


def all_artifacts(stub: Stub, session_id: str, page_size: int = 0) -> list[pb.DriveRestoreArtifact]:
    found: list[pb.DriveRestoreArtifact] = []
    token = ""
    while True:
        page = stub.ListDriveRestoreArtifacts(
            service_pb.ListDriveRestoreArtifactsRequest(
                restore_session_id=session_id, page_size=page_size, page_token=token
            ),
            timeout=10,
        )
        found += page.drive_restore_artifacts
        token = page.next_page_token
        if not token:
            return found


def activate(stub: Stub, session_id: str) -> pb.RestoreSession:
    return stub.ActivateRestoreSession(
        service_pb.ActivateRestoreSessionRequest(
            restore_session_id=session_id, request_id=str(uuid.uuid4())
        ),
        timeout=10,
    )


def get(stub: Stub, session_id: str) -> pb.RestoreSession:
    return stub.GetRestoreSession(
        service_pb.GetRestoreSessionRequest(restore_session_id=session_id), timeout=10
    )


def test_a_restore_from_draft_to_completed(emulator: Emulator, stub: Stub) -> None:
    session = stub.CreateRestoreSession(create_request("rp-l1", "rp-l2", "rp-l3"), timeout=10)
    added = stub.AddDriveRestoreArtifacts(
        service_pb.AddDriveRestoreArtifactsRequest(
            restore_session_id=session.id,
            drive_restore_artifacts=new_artifacts("rp-l4", "rp-l5"),
            request_id=str(uuid.uuid4()),
        ),
        timeout=10,
    )
    assert [a.status for a in added.added] == [pb.ARTIFACT_RESTORE_STATUS_ADDED] * 2
    assert not added.failed
    removed = stub.RemoveDriveRestoreArtifacts(
        service_pb.RemoveDriveRestoreArtifactsRequest(
            restore_session_id=session.id,
            drive_restore_artifact_ids=[added.added[0].id, "no-such-artifact"],
            request_id=str(uuid.uuid4()),
        ),
        timeout=10,
    )
    # Graph echoes no removal: what was asked, less what Graph reported failed.
    assert list(removed.removed_ids) == [added.added[0].id]
    assert [(f.id, f.error.code) for f in removed.failed] == [("no-such-artifact", "Invalid")]
    points = sorted(a.restore_point.id for a in all_artifacts(stub, session.id))
    assert points == ["rp-l1", "rp-l2", "rp-l3", "rp-l5"]

    assert activate(stub, session.id).status == S.RESTORE_SESSION_STATUS_ACTIVATING
    emulator.advance_clock(31)
    running = get(stub, session.id)
    assert running.status == S.RESTORE_SESSION_STATUS_ACTIVE
    assert running.restore_session_artifact_count.in_progress == 4
    emulator.advance_clock(3600)
    done = get(stub, session.id)
    assert done.status == S.RESTORE_SESSION_STATUS_COMPLETED
    assert done.restore_session_artifact_count.completed == 4
    assert done.HasField("completed_date_time")
    for artifact in all_artifacts(stub, session.id):
        assert artifact.status == pb.ARTIFACT_RESTORE_STATUS_SUCCEEDED
        assert artifact.restored_site_web_url
        assert artifact.HasField("start_date_time") and artifact.HasField("completion_date_time")


def test_activating_a_session_twice_is_failed_precondition(stub: Stub) -> None:
    session = stub.CreateRestoreSession(create_request("rp-twice"), timeout=10)
    activate(stub, session.id)
    with pytest.raises(grpc.RpcError) as failure:
        activate(stub, session.id)
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(failure.value).reason == "RESTORE_SESSION_ACTION_NOT_ALLOWED"


def test_a_26th_active_session_is_resource_exhausted_with_retry_info(
    emulator: Emulator, stub: Stub
) -> None:
    session = stub.CreateRestoreSession(create_request("rp-26th"), timeout=10)
    emulator.fault(
        kind="status",
        method="POST",
        path="/activate$",
        status=500,
        code="TooManyActiveRestoreSessions",
    )
    with pytest.raises(grpc.RpcError) as failure:
        activate(stub, session.id)
    assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert retry_delay_s(failure.value)
    assert activate(stub, session.id).status == S.RESTORE_SESSION_STATUS_ACTIVATING


def test_2000_artifacts_land_as_one_session(emulator: Emulator, stub: Stub) -> None:
    patches_before = emulator.counters()["received"].get(f"PATCH {CREATE_PATH}/{{id}}", 0)
    points = [f"rp-big-{i}" for i in range(2000)]
    session = stub.CreateRestoreSession(create_request(*points), timeout=60)
    assert session.status == S.RESTORE_SESSION_STATUS_DRAFT
    assert session.restore_session_artifact_count.total == 2000
    patches = emulator.counters()["received"].get(f"PATCH {CREATE_PATH}/{{id}}", 0) - patches_before
    assert patches == (2000 - 50) // 50
    listed = all_artifacts(stub, session.id, page_size=1000)
    assert sorted(a.restore_point.id for a in listed) == sorted(points)


def test_paging_visits_every_session_exactly_once(stub: Stub) -> None:
    for index in range(6):
        stub.CreateRestoreSession(create_request(f"rp-paging-{index}"), timeout=10)
    seen: list[str] = []
    token = ""
    while True:
        page = stub.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=4, page_token=token), timeout=10
        )
        assert len(page.restore_sessions) <= 4
        seen += [s.id for s in page.restore_sessions]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 6
    everything = stub.ListRestoreSessions(
        service_pb.ListRestoreSessionsRequest(page_size=1000), timeout=10
    )
    assert {s.id for s in everything.restore_sessions} == set(seen)


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(json.dumps({"url": "https://evil.example/"}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(["$skiptoken"]).encode()).decode(),
    ],
)
def test_a_forged_page_token_is_refused(stub: Stub, token: str) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        stub.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_token=token), timeout=10
        )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(failure.value)["BadRequest"].field_violations[0].field == "page_token"  # type: ignore[attr-defined]


def test_two_watchers_share_one_poll_loop(emulator: Emulator, stub: Stub) -> None:
    session = stub.CreateRestoreSession(create_request("rp-w1", "rp-w2"), timeout=10)
    activate(stub, session.id)
    seen: dict[int, list[int]] = {0: [], 1: []}
    started = threading.Barrier(3)

    def watch(watcher: int) -> None:
        stream = stub.WatchRestoreSession(
            service_pb.WatchRestoreSessionRequest(restore_session_id=session.id), timeout=60
        )
        for index, update in enumerate(stream):
            seen[watcher].append(update.status)
            if index == 0:
                started.wait()

    threads = [threading.Thread(target=watch, args=(w,)) for w in (0, 1)]
    for thread in threads:
        thread.start()
    started.wait(timeout=30)
    emulator.advance_clock(3600)
    for thread in threads:
        thread.join(timeout=60)
    assert seen[0][0] == S.RESTORE_SESSION_STATUS_ACTIVATING
    assert seen[0][-1] == seen[1][-1] == S.RESTORE_SESSION_STATUS_COMPLETED
    polls = [
        r["time"]
        for r in emulator.journal()
        if r["method"] == "GET" and r["path"] == f"{CREATE_PATH}/{session.id}"
    ]
    # One loop polls at least a second apart; a loop per watcher would interleave.
    assert all(later - earlier >= 0.9 for earlier, later in itertools.pairwise(polls))


def test_watching_an_unknown_session_is_not_found(stub: Stub) -> None:
    stream = stub.WatchRestoreSession(
        service_pb.WatchRestoreSessionRequest(restore_session_id=str(uuid.uuid4())), timeout=10
    )
    with pytest.raises(grpc.RpcError) as failure:
        list(stream)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def test_search_finds_points_for_more_units_than_graph_takes_at_once(
    emulator: Emulator, stub: Stub
) -> None:
    with emulator.graph_client() as graph:
        unit_ids = [u["id"] for u in graph.get("/driveProtectionUnits?$top=45").json()["value"]]
    searches_before = emulator.counters()["received"].get(
        "POST /v1.0/solutions/backupRestore/restorePoints/search", 0
    )
    found = stub.SearchRestorePoints(
        service_pb.SearchRestorePointsRequest(
            protection_unit_ids=[*unit_ids, "00000000-0000-4000-8000-000000000000"],
            protection_time_period=pb.TimePeriod(
                start_date_time=timestamp(datetime(2026, 10, 1, tzinfo=UTC)),
                end_date_time=timestamp(datetime(2026, 11, 1, tzinfo=UTC)),
            ),
            restore_point_preference=pb.RESTORE_POINT_PREFERENCE_LATEST,
        ),
        timeout=30,
    )
    searches = (
        emulator.counters()["received"].get(
            "POST /v1.0/solutions/backupRestore/restorePoints/search", 0
        )
        - searches_before
    )
    assert searches == 3  # 46 units in chunks of 20
    assert len(found.search_results) == 45  # the latest only: one per unit
    assert {r.restore_point.protection_unit.id for r in found.search_results} == set(unit_ids)
    assert list(found.no_result_protection_unit_ids) == ["00000000-0000-4000-8000-000000000000"]
    first = found.search_results[0].restore_point
    assert first.HasField("protection_date_time")
    assert first.protection_unit.directory_object_id
    assert not first.protection_unit.email  # delegated callers only


def bulk_request(
    **names: list[str],
) -> service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest:
    return service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest(
        bulk_addition_request=pb.DriveRestoreArtifactsBulkAdditionRequest(
            display_name="ransomware day",
            destination_type=pb.DESTINATION_TYPE_NEW,
            protection_time_period=pb.TimePeriod(
                start_date_time=timestamp(datetime(2026, 10, 1, tzinfo=UTC)),
                end_date_time=timestamp(datetime(2026, 11, 1, tzinfo=UTC)),
            ),
            restore_point_preference=pb.RESTORE_POINT_PREFERENCE_LATEST,
            **names,
        ),
        request_id=str(uuid.uuid4()),
    )


def test_drives_named_by_email_fill_one_bulk_session(emulator: Emulator, stub: Stub) -> None:
    emails = [f"user{i:05d}@contoso.com" for i in range(60)]
    bulk = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
        bulk_request(drives=emails), timeout=30
    )
    assert bulk.status == pb.RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_ACTIVE
    assert bulk.restore_session_id and bulk.id
    assert list(bulk.drives) == emails
    session = get(stub, bulk.restore_session_id)
    assert session.restore_job_type == pb.RESTORE_JOB_TYPE_BULK
    assert session.restore_session_artifact_count.total == 60
    listed = stub.ListDriveRestoreArtifactsBulkAdditionRequests(
        service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsRequest(
            restore_session_id=bulk.restore_session_id
        ),
        timeout=10,
    )
    assert [b.id for b in listed.bulk_addition_requests] == [bulk.id]
    activate(stub, bulk.restore_session_id)
    emulator.advance_clock(3600)
    done = stub.GetDriveRestoreArtifactsBulkAdditionRequest(
        service_pb.GetDriveRestoreArtifactsBulkAdditionRequestRequest(
            restore_session_id=bulk.restore_session_id, bulk_addition_request_id=bulk.id
        ),
        timeout=10,
    )
    assert done.status == pb.RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_COMPLETED


@pytest.mark.parametrize(
    ("names", "field"),
    [
        ({}, "bulk_addition_request.drives"),
        ({"drives": ["not an address"]}, "bulk_addition_request.drives[0]"),
        ({"protection_unit_ids": ["a/b"]}, "bulk_addition_request.protection_unit_ids[0]"),
        (
            {"drives": [f"u{i}@contoso.com" for i in range(10_001)]},
            "bulk_addition_request.drives",
        ),
    ],
)
def test_bad_bulk_requests_never_reach_graph(
    stub: Stub, names: dict[str, list[str]], field: str
) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateDriveRestoreArtifactsBulkAdditionRequest(bulk_request(**names), timeout=30)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = [v.field for v in details(failure.value)["BadRequest"].field_violations]  # type: ignore[attr-defined]
    assert fields == [field]


def test_an_unknown_owner_is_graphs_invalid_argument_and_leaves_no_draft(
    stub: Stub, emulator: Emulator
) -> None:
    def deletes() -> int:
        received = emulator.counters()["received"]
        return int(received.get("DELETE /v1.0/solutions/backupRestore/restoreSessions/{id}", 0))

    deletes_before = deletes()
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
            bulk_request(drives=["nobody@contoso.com"]), timeout=30
        )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(failure.value)
    assert info.reason == "BULK_RESTORE_INVALID_CREATE_REQUEST_USER_EMAIL"
    assert "restore_session_id" not in info.metadata
    # The empty draft the gateway made for the request was deleted again.
    assert deletes() == deletes_before + 1


def test_graph_calls_ask_for_json_and_label_only_the_bodies_they_send(
    emulator: Emulator, stub: Stub
) -> None:
    session = stub.CreateRestoreSession(create_request("rp-headers"), timeout=10)
    stub.ActivateRestoreSession(
        service_pb.ActivateRestoreSessionRequest(
            restore_session_id=session.id, request_id=str(uuid.uuid4())
        ),
        timeout=10,
    )
    sent = {
        (r["method"], r["path"].rsplit("/", 1)[-1]): r
        for r in emulator.journal()
        if session.id in r["path"] or r["body"].find("rp-headers") >= 0
    }
    activate = sent[("POST", "activate")]
    create = sent[("POST", "oneDriveForBusinessRestoreSessions")]
    assert (activate["content_type"], activate["body"]) == ("", "")
    assert create["content_type"].startswith("application/json")
    assert {activate["accept"], create["accept"]} == {"application/json"}


def test_sharepoint_and_exchange_sessions_are_not_found_to_activate_or_delete(
    emulator: Emulator, stub: Stub
) -> None:
    others = [
        s
        for s in emulator.control.get("/_emulator/sessions").json()["sessions"]
        if s["kind"] != "oneDriveForBusiness"
    ]
    assert {s["kind"] for s in others} == {"sharePoint", "exchange"}
    since = len(emulator.journal())
    for other in others:
        for method, request in (
            (
                stub.ActivateRestoreSession,
                service_pb.ActivateRestoreSessionRequest(
                    restore_session_id=other["id"], request_id=str(uuid.uuid4())
                ),
            ),
            (
                stub.DeleteRestoreSession,
                service_pb.DeleteRestoreSessionRequest(
                    restore_session_id=other["id"], request_id=str(uuid.uuid4())
                ),
            ),
        ):
            with pytest.raises(grpc.RpcError) as failure:
                method(request, timeout=10)
            assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    acted_on = [
        r
        for r in emulator.journal()[since:]
        for other in others
        if other["id"] in r["path"] and r["method"] in ("POST", "DELETE")
    ]
    assert not acted_on
    still = {
        s["id"]: s["status"] for s in emulator.control.get("/_emulator/sessions").json()["sessions"]
    }
    assert all(still[other["id"]] == other["status"] for other in others)


def test_drives_named_by_protection_unit_reach_graph_as_directory_object_ids(
    emulator: Emulator, stub: Stub
) -> None:
    with emulator.graph_client() as graph:
        units = graph.get("/driveProtectionUnits?$top=3").json()["value"]
    bulk = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
        bulk_request(protection_unit_ids=[u["id"] for u in units]), timeout=30
    )
    [sent] = [
        json.loads(r["body"])
        for r in emulator.journal()
        if r["method"] == "POST"
        and r["path"].endswith(
            f"{bulk.restore_session_id}/driveRestoreArtifactsBulkAdditionRequests"
        )
    ]
    # protectionUnitIds is documented as not implemented: never sent.
    assert "protectionUnitIds" not in sent
    assert sent["directoryObjectIds"] == [u["directoryObjectId"] for u in units]
    session = get(stub, bulk.restore_session_id)
    assert session.restore_session_artifact_count.total == 3


def test_a_unit_graph_does_not_know_is_named_in_the_refusal(stub: Stub) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
            bulk_request(protection_unit_ids=["00000000-0000-4000-8000-000000000000"]),
            timeout=30,
        )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = [v.field for v in details(failure.value)["BadRequest"].field_violations]  # type: ignore[attr-defined]
    assert fields == ["bulk_addition_request.protection_unit_ids[0]"]


def test_an_unknown_restore_point_is_graphs_invalid_argument(stub: Stub) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("nowhere-1"), timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(failure.value).reason == "INVALID_RESTORE_POINT"


def test_the_bulk_list_asks_for_pages_and_follows_them(emulator: Emulator, stub: Stub) -> None:
    bulk = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
        bulk_request(drives=["user00070@contoso.com"]), timeout=30
    )
    path = f"{CREATE_PATH}/{bulk.restore_session_id}/driveRestoreArtifactsBulkAdditionRequests"
    # Graph may page even this list: a first page that only points at the next one.
    next_link = f"{emulator.info['graph_url']}{path}?$skiptoken=0&$top=1000"
    emulator.fault(
        kind="status",
        method="GET",
        path=f"{path}$",
        status=200,
        body={"value": [], "@odata.nextLink": next_link},
    )
    listed = stub.ListDriveRestoreArtifactsBulkAdditionRequests(
        service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsRequest(
            restore_session_id=bulk.restore_session_id
        ),
        timeout=10,
    )
    assert [b.id for b in listed.bulk_addition_requests] == [bulk.id]
    queries = [r["query"] for r in emulator.journal() if r["method"] == "GET" and r["path"] == path]
    # The docs take no query option on this list; the next page is Graph's link as given.
    assert queries == ["", "$skiptoken=0&$top=1000"]
