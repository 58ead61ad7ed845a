"""Contract tests from Microsoft's documented bodies (tests/contract/graph-examples/):
the emulator answers each documented request in the documented shape, and the gateway,
given each documented answer verbatim, turns it into the right RPC answer."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from graph_emulator import schema
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request, error_info, retry_delay_s
from processes import CREATE_PATH, Emulator
from test_lifecycle import bulk_request

EXAMPLES = Path(__file__).parent.parent / "contract" / "graph-examples"
API = "/v1.0/solutions/backupRestore"
BULK = "driveRestoreArtifactsBulkAdditionRequests"
Stub = service_grpc.OneDriveRestoreServiceStub
# OData control annotations: where an answer came from, not what it holds.
ANNOTATIONS = frozenset({"@odata.context", "@odata.id", "@odata.nextLink", "@context"})
# The documented files of item-level restore (browse sessions, granular OneDrive and
# SharePoint artifacts): held to their contracts in test_contract_browse.
GRANULAR_FILES = (
    "browse",
    "sharepoint-browse",
    "create-granular",
    "update-granular",
    "list-granular",
    "sharepoint-create-granular",
    "sharepoint-update-granular",
    "sharepoint-list-granular",
)


def is_granular_file(name: str) -> bool:
    stem = name.split(".")[0]
    return any(stem == prefix or stem.startswith(f"{prefix}-") for prefix in GRANULAR_FILES)


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def shape_problems(documented: Any, answered: Any, where: str = "") -> list[str]:
    """Where `answered` lacks a property `documented` has, or holds another JSON type
    (null on either side matches anything; lists compare their first items)."""
    if documented is None or answered is None:
        return []
    if isinstance(documented, dict):
        if not isinstance(answered, dict):
            return [f"{where or '/'}: an object was documented"]
        problems = []
        for key, value in documented.items():
            if key in ANNOTATIONS:
                continue
            if key not in answered:
                problems.append(f"{where}/{key}: missing")
            else:
                problems += shape_problems(value, answered[key], f"{where}/{key}")
        return problems
    if isinstance(documented, list):
        if not isinstance(answered, list):
            return [f"{where}: a list was documented"]
        return (
            shape_problems(documented[0], answered[0], f"{where}/0")
            if documented and answered
            else []
        )
    kinds = {bool: "boolean", int: "number", float: "number", str: "string"}
    if kinds[type(documented)] != kinds.get(type(answered)):
        return [f"{where}: a {kinds[type(documented)]} was documented, not {answered!r}"]
    return []


@pytest.fixture(scope="module")
def graph(emulator: Emulator) -> Any:
    with emulator.graph_client() as client:
        yield client


def empty_draft(graph: httpx.Client) -> str:
    return str(graph.post("/oneDriveForBusinessRestoreSessions", content=b"").json()["id"])


def test_every_documented_file_is_held_to_a_contract() -> None:
    onedrive = {
        p.name
        for p in EXAMPLES.glob("*.json")
        if not p.name.startswith(("sharepoint-", "exchange-")) and not is_granular_file(p.name)
    }
    tested = {f for f in CONTRACTED if (EXAMPLES / f).exists()}
    assert onedrive == tested


# --- The emulator answers the documented requests in the documented shape -------------


def test_create(graph: httpx.Client) -> None:
    request = example("create.request.json")
    assert schema.problems(schema.validator("oneDriveForBusinessRestoreSession"), request) == []
    answer = graph.post("/oneDriveForBusinessRestoreSessions", json=request)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert shape_problems(example("create.response-201.json"), body) == []
    assert schema.problems(schema.validator("oneDriveForBusinessRestoreSession"), body) == []
    assert body["createdBy"]["application"]["displayName"] == "Microsoft Enhanced Restore"


def test_update(graph: httpx.Client) -> None:
    request = example("update.request.json")
    answer = graph.patch(f"/oneDriveForBusinessRestoreSessions/{empty_draft(graph)}", json=request)
    assert answer.status_code == 200, answer.text
    items = answer.json()["driveRestoreArtifacts@delta"]
    documented = example("update.response-200.json")["driveRestoreArtifacts@delta"]
    # Added items are echoed with createdDateTime; removals are not echoed; a removal
    # of an artifact the session does not hold fails with 409 and @contentId.
    added = [i for i in items if "@Core.DataModificationException" not in i]
    failed = [i for i in items if "@Core.DataModificationException" in i]
    assert len(added) == 4 and len(failed) == 3
    assert shape_problems(documented[0], added[0]) == []
    assert shape_problems(documented[-1], failed[0]) == []
    assert {f["id"] for f in failed} == {
        i["id"] for i in request["driveRestoreArtifacts@delta"][4:]
    }


def test_activate(graph: httpx.Client) -> None:
    session = graph.post(
        "/oneDriveForBusinessRestoreSessions", json=example("create.request.json")
    ).json()
    answer = graph.post(f"/restoreSessions/{session['id']}/activate")
    assert answer.status_code == 200, answer.text
    assert shape_problems(example("activate.response-200.json"), answer.json()) == []
    assert answer.json()["status"] == "activating"


def test_get_and_list_restore_sessions_of_every_workload(
    graph: httpx.Client, emulator: Emulator
) -> None:
    sessions = emulator.control.get("/_emulator/sessions").json()["sessions"]
    sharepoint = next(s["id"] for s in sessions if s["kind"] == "sharePoint")
    got = graph.get(f"/restoreSessions/{sharepoint}").json()
    assert shape_problems(example("get-restore-session.response-200.json"), got) == []
    assert got["@odata.type"].lower() == "#microsoft.graph.sharepointrestoresession"
    listed = graph.get("/restoreSessions", params={"$top": 2}).json()
    assert shape_problems(example("list-restore-sessions.response-200.json"), listed) == []
    assert "skiptoken" in listed["@odata.nextLink"]
    kinds = {s["@odata.type"] for s in graph.get("/restoreSessions?$top=1000").json()["value"]}
    assert len(kinds) == 3


def test_list_drive_restore_artifacts(graph: httpx.Client) -> None:
    session = graph.post(
        "/oneDriveForBusinessRestoreSessions", json=example("create.request.json")
    ).json()
    listed = graph.get(f"/oneDriveForBusinessRestoreSessions/{session['id']}/driveRestoreArtifacts")
    documented = example("list-drive-restore-artifacts.response-200.json")
    assert shape_problems(documented, listed.json()) == []


def test_search_restore_points(graph: httpx.Client) -> None:
    request = example("search-restore-points.request.json")
    answer = graph.post("/restorePoints/search", json=request)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    documented = example("search-restore-points.response-200.json")
    # Reading: the documented unit of a drive search is a siteProtectionUnit (siteId); a
    # drive search finds driveProtectionUnits, compared on what they share.
    del documented["searchResults"][0]["restorePoint"]["protectionUnit"]["siteId"]
    assert shape_problems(documented, body) == []
    assert body["noResultProtectionUnitIds"] == ["63014d8c-71fe-4d00-a01a-31850bc5b42c"]
    # restorePointPreference given: one point for each unit that has one.
    assert len(body["searchResults"]) == 3


def test_bulk_addition(graph: httpx.Client) -> None:
    request = example("bulk-addition.request.json")
    assert (
        schema.problems(schema.validator("driveRestoreArtifactsBulkAdditionRequest"), request) == []
    )
    session_id = empty_draft(graph)
    path = f"/oneDriveForBusinessRestoreSessions/{session_id}/{BULK}"
    answer = graph.post(path, json=request)
    assert answer.status_code == 201, answer.text
    assert shape_problems(example("bulk-addition.response-201.json"), answer.json()) == []


def test_a_bulk_request_that_resolves_nothing_lists_its_errors(graph: httpx.Client) -> None:
    request = example("bulk-addition.request.json")
    # No restore point in this period for the documented drives.
    request["protectionTimePeriod"] = {
        "startDateTime": "2021-02-01T00:00:00Z",
        "endDateTime": "2021-02-08T00:00:00Z",
    }
    path = f"/oneDriveForBusinessRestoreSessions/{empty_draft(graph)}/{BULK}"
    assert graph.post(path, json=request).status_code == 201
    documented = example("bulk-addition.list-item-with-errors.json")["value"][0]
    # Reading: the documented item's `createdBy: ""` is a string where the schema has an
    # identitySet; the emulator answers the schema's object.
    del documented["createdBy"], documented["lastModifiedBy"]
    [item] = graph.get(path).json()["value"]
    assert shape_problems(documented, item) == []
    assert item["error"]["code"] == "BulkRestoreArtifactsNotResolved"
    assert {d["code"] for d in item["error"]["details"]} == {"UserNotBackedup"}


def test_service_root(graph: httpx.Client, emulator: Emulator) -> None:
    answer = graph.get(f"{emulator.info['graph_url']}{API}")
    assert shape_problems(example("service-root.response-200.json"), answer.json()) == []


def test_throttling_error_body(graph: httpx.Client, emulator: Emulator) -> None:
    emulator.fault(
        kind="status",
        method="GET",
        path=f"{API}/restorePoints/x$",
        status=429,
        code="TooManyRequests",
        retry_after_s=1,
    )
    answer = graph.get("/restorePoints/x")
    assert answer.status_code == 429
    documented = example("error-429.json")
    # Reading: innerError's code, message and status appear in this one guidance sample
    # only; every other documented error carries date and the request ids.
    for key in ("code", "message", "status"):
        del documented["error"]["innerError"][key]
    assert shape_problems(documented, answer.json()) == []


# --- The gateway turns each documented answer into the right RPC answer ----------------


def answer_with(emulator: Emulator, method: str, path: str, name: str, status: int = 200) -> None:
    """The emulator answers the next matching request with the documented body."""
    emulator.fault(
        kind="status", method=method, path=f"{API}{path}$", status=status, body=example(name)
    )


def test_the_gateway_reads_a_documented_create(emulator: Emulator, stub: Stub) -> None:
    answer_with(
        emulator, "POST", "/oneDriveForBusinessRestoreSessions", "create.response-201.json", 201
    )
    session = stub.CreateRestoreSession(
        create_request(
            "1f1fccc3-a642-4f61-bf49-f37b9a888279", "1f1fccc3-a642-4f61-bf49-f37b9a888280"
        ),
        timeout=10,
    )
    assert session.id == "959ba739-70b5-43c4-8c90-b2c22014f18b"
    assert session.status == pb.RESTORE_SESSION_STATUS_DRAFT
    assert session.restore_job_type == pb.RESTORE_JOB_TYPE_STANDARD
    assert session.restore_session_artifact_count.total == 2
    assert session.created_by.application.display_name == "Microsoft Enhanced Restore"
    assert session.last_modified_by.user.display_name == "User2"
    assert session.created_date_time.ToJsonString() == "2023-03-30T12:01:03.450Z"


def test_the_gateway_reads_a_documented_session(emulator: Emulator, stub: Stub) -> None:
    session_id = "959ba739-70b5-43c4-8c90-b2c22014f18b"
    answer_with(
        emulator,
        "GET",
        f"/oneDriveForBusinessRestoreSessions/{session_id}",
        "get-restore-session.response-200.json",
    )
    session = stub.GetRestoreSession(
        service_pb.GetRestoreSessionRequest(restore_session_id=session_id), timeout=10
    )
    assert session.status == pb.RESTORE_SESSION_STATUS_ACTIVE
    counts = session.restore_session_artifact_count
    assert (counts.total, counts.completed, counts.in_progress) == (2, 1, 1)
    assert session.created_by.user.display_name == "Ryan"


def test_the_gateway_lists_only_the_onedrive_sessions_of_a_documented_page(
    emulator: Emulator, stub: Stub
) -> None:
    answer_with(
        emulator,
        "GET",
        "/oneDriveForBusinessRestoreSessions",
        "list-restore-sessions.response-200.json",
    )
    # The page is not full: the gateway reads on, at Graph's next link (here, the end).
    emulator.fault(
        kind="status",
        method="GET",
        path=f"{API}/oneDriveForBusinessRestoreSessions$",
        status=200,
        body={"value": []},
    )
    page = stub.ListRestoreSessions(service_pb.ListRestoreSessionsRequest(page_size=2), timeout=10)
    assert [s.id for s in page.restore_sessions] == ["959ba739-70b5-43c4-8c90-b2c22014f18b"]
    assert not page.next_page_token
    documented = example("list-restore-sessions.response-200.json")["@odata.nextLink"]
    [read_on] = [
        r["query"]
        for r in emulator.journal()[-1:]
        if r["path"] == f"{API}/oneDriveForBusinessRestoreSessions"
    ]
    assert "$skiptoken=" in read_on and documented.split("$skiptoken=")[1][:16] in read_on


def test_the_gateway_reads_documented_artifacts(emulator: Emulator, stub: Stub) -> None:
    session_id = "845457dc-4bb2-4815-bef3-8628ebd1952e"
    answer_with(
        emulator,
        "GET",
        f"/oneDriveForBusinessRestoreSessions/{session_id}/driveRestoreArtifacts",
        "list-drive-restore-artifacts.response-200.json",
    )
    listed = stub.ListDriveRestoreArtifacts(
        service_pb.ListDriveRestoreArtifactsRequest(restore_session_id=session_id), timeout=10
    )
    first, second = listed.drive_restore_artifacts
    assert (first.destination_type, second.destination_type) == (
        pb.DESTINATION_TYPE_IN_PLACE,
        pb.DESTINATION_TYPE_NEW,
    )
    assert first.status == pb.ARTIFACT_RESTORE_STATUS_SUCCEEDED
    assert first.restored_site_name == "testodbsite101"
    assert first.restore_point.id == "e9592a41-9d38-4e94-a16b-4d9fef695c0b_1791648201_11_7"
    assert first.completion_date_time.ToJsonString() == "2023-12-04T13:22:12.720969100Z"
    assert listed.next_page_token


def test_the_gateway_reads_a_documented_activation(emulator: Emulator, stub: Stub) -> None:
    session = stub.CreateRestoreSession(create_request("rp-contract-activate"), timeout=10)
    answer_with(
        emulator, "POST", f"/restoreSessions/{session.id}/activate", "activate.response-200.json"
    )
    activated = stub.ActivateRestoreSession(
        service_pb.ActivateRestoreSessionRequest(
            restore_session_id=session.id, request_id=str(uuid.uuid4())
        ),
        timeout=10,
    )
    assert activated.status == pb.RESTORE_SESSION_STATUS_ACTIVATING
    assert activated.restore_session_artifact_count.in_progress == 2


def test_the_gateway_reads_a_documented_update(emulator: Emulator, stub: Stub) -> None:
    session = stub.CreateRestoreSession(create_request("rp-contract-update"), timeout=10)
    path = f"/oneDriveForBusinessRestoreSessions/{session.id}"
    answer_with(emulator, "PATCH", path, "update.response-200.json")
    points = [
        i["restorePoint"]["id"]
        for i in example("update.request.json")["driveRestoreArtifacts@delta"][:4]
    ]
    added = stub.AddDriveRestoreArtifacts(
        service_pb.AddDriveRestoreArtifactsRequest(
            restore_session_id=session.id,
            drive_restore_artifacts=create_request(*points).restore_session.drive_restore_artifacts,
            request_id=str(uuid.uuid4()),
        ),
        timeout=10,
    )
    assert [a.id for a in added.added] == [
        "89014d8c-71fe-4d00-a01a-31850bc5b32c",
        "67014d8c-71fe-4d00-a01a-31850bc5b32c",
        "56014d8c-71fe-4d00-a01a-31850bc5b32c",
        "32014d8c-71fe-4d00-a01a-31850bc5b32c",
    ]
    assert not added.failed  # the one failure in the answer is a removal
    answer_with(emulator, "PATCH", path, "update.response-200.json")
    asked = [i["id"] for i in example("update.request.json")["driveRestoreArtifacts@delta"][4:]]
    removed = stub.RemoveDriveRestoreArtifacts(
        service_pb.RemoveDriveRestoreArtifactsRequest(
            restore_session_id=session.id,
            drive_restore_artifact_ids=asked,
            request_id=str(uuid.uuid4()),
        ),
        timeout=10,
    )
    # Graph echoes no removal: what was asked, less what it reported failed.
    assert list(removed.removed_ids) == [
        "99954f18-c8ec-4b62-85bf-cdf3b70b140e",
        "3667e382-71a9-4c07-bef7-bda97e09c0d2",
    ]
    assert [(f.id, f.error.code) for f in removed.failed] == [
        ("4267e382-71a9-4c07-bef7-bda97e09c0d2", "Invalid")
    ]


def test_the_gateway_reads_a_documented_search(emulator: Emulator, stub: Stub) -> None:
    answer_with(
        emulator, "POST", "/restorePoints/search", "search-restore-points.response-200.json"
    )
    request = example("search-restore-points.request.json")
    found = stub.SearchRestorePoints(
        service_pb.SearchRestorePointsRequest(
            protection_unit_ids=request["protectionUnitIds"],
            protection_time_period=bulk_request().bulk_addition_request.protection_time_period,
            restore_point_preference=pb.RESTORE_POINT_PREFERENCE_LATEST,
        ),
        timeout=10,
    )
    [result] = found.search_results
    assert result.restore_point.id == "1f1fccc3-a642-4f61-bf49-f37b9a888279"
    assert result.restore_point.protection_unit.id == "23014d8c-71fe-4d00-a01a-31850bc5b42a"
    assert list(result.restore_point.tags) == [pb.RESTORE_POINT_TAG_FAST_RESTORE]
    assert list(found.no_result_protection_unit_ids) == ["63014d8c-71fe-4d00-a01a-31850bc5b42c"]


def test_the_gateway_reads_documented_bulk_requests(emulator: Emulator, stub: Stub) -> None:
    session = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
        bulk_request(drives=["user00080@contoso.com"]), timeout=30
    )
    path = f"/oneDriveForBusinessRestoreSessions/{session.restore_session_id}/{BULK}"
    answer_with(emulator, "GET", path, "bulk-addition.list-item-with-errors.json")
    [listed] = stub.ListDriveRestoreArtifactsBulkAdditionRequests(
        service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsRequest(
            restore_session_id=session.restore_session_id
        ),
        timeout=10,
    ).bulk_addition_requests
    # "CompletedWithErrors", capitalised as documented; createdBy "" means unset.
    assert listed.status == pb.RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_COMPLETED_WITH_ERRORS
    assert listed.error.code == "BulkRestoreArtifactsNotResolved"
    assert [d.target for d in listed.error.details] == ["user0@contoso.com"]
    assert not listed.HasField("created_by")
    assert listed.created_date_time.ToJsonString() == "2023-09-29T10:36:44.402138900Z"
    # A bulk request goes into an empty draft.
    empty = graph_empty_session(emulator)
    answer_with(
        emulator,
        "POST",
        f"/oneDriveForBusinessRestoreSessions/{empty}/driveRestoreArtifactsBulkAdditionRequests",
        "bulk-addition.response-201.json",
        201,
    )
    request = bulk_request(drives=example("bulk-addition.request.json")["drives"])
    request.restore_session_id = empty
    created = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(request, timeout=10)
    assert created.id == "9cf59538-5289-4024-9fa4-9c6c2b39aaa6"
    assert created.status == pb.RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_ACTIVE
    # The documented creator is named by `identity`, not `id`.
    assert created.created_by.user.id == "fb70be35-8c8e-4c8a-b55d-f8cd95c5e23a"


def graph_empty_session(emulator: Emulator) -> str:
    with emulator.graph_client() as graph:
        return empty_draft(graph)


def test_the_gateway_reads_the_documented_throttling_answer(emulator: Emulator, stub: Stub) -> None:
    emulator.fault(
        kind="status",
        method="POST",
        path=f"{CREATE_PATH}$",
        status=429,
        body=example("error-429.json"),
        retry_after_s=2.128,
    )
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(create_request("rp-contract-429"), timeout=1.5)
    assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(failure.value).reason == "TOO_MANY_REQUESTS"
    # Retry-After may be fractional, as the throttling guidance shows.
    assert retry_delay_s(failure.value) == pytest.approx(2.128)


CONTRACTED = {
    "create.request.json",
    "create.response-201.json",
    "update.request.json",
    "update.response-200.json",
    "activate.response-200.json",
    "get-restore-session.response-200.json",
    "list-restore-sessions.response-200.json",
    "list-drive-restore-artifacts.response-200.json",
    "search-restore-points.request.json",
    "search-restore-points.response-200.json",
    "bulk-addition.request.json",
    "bulk-addition.response-201.json",
    "bulk-addition.list-item-with-errors.json",
    "service-root.response-200.json",
    "error-429.json",
}


def test_bulk_requests_are_listed_as_documented_and_paged_by_graphs_next_link(
    emulator: Emulator, stub: Stub
) -> None:
    session = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
        bulk_request(drives=["user00081@contoso.com"]), timeout=30
    )
    path = f"/oneDriveForBusinessRestoreSessions/{session.restore_session_id}/{BULK}"
    first, second = (
        example("bulk-addition.list-item-with-errors.json"),
        example("bulk-addition.list-item-with-errors.json"),
    )
    # Graph's own continuation, opaque, with options the gateway never chose.
    continuation = "$skiptoken=Zm9v%3D%3D&$top=7&$count=true"
    first["@odata.nextLink"] = f"{emulator.info['graph_url']}{API}{path}?{continuation}"
    second["value"][0]["id"] = "second-page"
    for body in (first, second):
        emulator.fault(kind="status", method="GET", path=f"{API}{path}$", status=200, body=body)
    listed = stub.ListDriveRestoreArtifactsBulkAdditionRequests(
        service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsRequest(
            restore_session_id=session.restore_session_id
        ),
        timeout=10,
    ).bulk_addition_requests
    assert [b.id for b in listed][1] == "second-page"
    sent = [
        r["query"] for r in emulator.journal() if r["method"] == "GET" and r["path"] == API + path
    ]
    # The docs take no query option on this list; the next page is the next link.
    assert sent[-2:] == ["", continuation]


def test_a_next_link_off_the_collection_is_not_followed(emulator: Emulator, stub: Stub) -> None:
    session = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
        bulk_request(drives=["user00082@contoso.com"]), timeout=30
    )
    path = f"/oneDriveForBusinessRestoreSessions/{session.restore_session_id}/{BULK}"
    body = example("bulk-addition.list-item-with-errors.json")
    body["@odata.nextLink"] = f"https://elsewhere.example{API}{path}?$skiptoken=1"
    emulator.fault(kind="status", method="GET", path=f"{API}{path}$", status=200, body=body)
    with pytest.raises(grpc.RpcError):
        stub.ListDriveRestoreArtifactsBulkAdditionRequests(
            service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsRequest(
                restore_session_id=session.restore_session_id
            ),
            timeout=10,
        )
    sent = [r for r in emulator.journal() if r["method"] == "GET" and r["path"] == API + path]
    assert len(sent) == 1
