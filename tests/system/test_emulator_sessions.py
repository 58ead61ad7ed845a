"""The emulator answers the restore-session API as graph-api.md documents it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from processes import Emulator, running_emulator

SESSIONS = "/oneDriveForBusinessRestoreSessions"
DOC_BODY = {
    "driveRestoreArtifacts": [
        {"restorePoint": {"id": "1f1fccc3-a642-4f61-bf49-f37b9a888279"}, "destinationType": "new"},
        {"restorePoint": {"id": "1f1fccc3-a642-4f61-bf49-f37b9a888280"}, "destinationType": "new"},
    ]
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator of this module's own: these tests move its clock and fill its tenant."""
    with running_emulator(tmp_path_factory.mktemp("lab"), "--seed-drives", "30") as emulator:
        yield emulator


@pytest.fixture(scope="module")
def graph(lab: Emulator) -> Iterator[httpx.Client]:
    with lab.graph_client() as client:
        yield client


def artifacts(*points: str, destination: str = "new") -> dict[str, object]:
    return {
        "driveRestoreArtifacts": [
            {"restorePoint": {"id": p}, "destinationType": destination} for p in points
        ]
    }


def new_session(graph: httpx.Client, *points: str) -> dict[str, object]:
    answer = graph.post(SESSIONS, json=artifacts(*points))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def assert_graph_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["innerError"]["request-id"] == answer.headers["request-id"]


def test_the_documented_create_example(graph: httpx.Client, lab: Emulator) -> None:
    client_request_id = str(uuid.uuid4())
    answer = graph.post(SESSIONS, json=DOC_BODY, headers={"client-request-id": client_request_id})
    assert answer.status_code == 201
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["client-request-id"] == client_request_id
    uuid.UUID(answer.headers["request-id"])
    session = answer.json()
    assert session["@odata.context"] == (
        "/solutions/backupRestore/$metadata#oneDriveForBusinessRestoreSession/$entity"
    )
    assert session["status"] == "draft"
    assert session["restoreJobType"] == "standard"
    assert session["restoreSessionArtifactCount"] == {
        "total": 2,
        "completed": 0,
        "inProgress": 0,
        "failed": 0,
    }
    assert session["createdBy"]["application"] == {
        "id": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "displayName": "Microsoft Enhanced Restore",
    }
    assert session["createdDateTime"] == session["lastModifiedDateTime"]
    assert set(session) >= {"id", "createdBy", "lastModifiedBy", "completedDateTime", "error"}
    fetched = graph.get(f"/restoreSessions/{session['id']}").json()
    assert fetched["id"] == session["id"]


def test_every_body_form_graph_accepts(graph: httpx.Client) -> None:
    answer = graph.post(
        SESSIONS,
        json={
            "@odata.type": "#microsoft.graph.oneDriveForBusinessRestoreSession",
            "driveRestoreArtifacts": [
                {"restorePoint": {"@odata.id": "rp-odata-1"}, "destinationType": "new"}
            ],
        },
    )
    assert answer.status_code == 201
    empty = graph.post(SESSIONS, content=b"")
    assert empty.status_code == 201
    assert empty.json()["restoreSessionArtifactCount"]["total"] == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (artifacts("rp-1", destination="cloud"), 400, "InvalidPathType"),
        ({"driveRestoreArtifacts": []}, 400, "InvalidArtifactRequest"),
        (artifacts(""), 400, "InvalidRestorePoint"),
        (artifacts("a/b"), 400, "InvalidRestorePoint"),
        (
            {
                "driveRestoreArtifacts": [
                    {"restorePoint": {"id": "rp-1"}, "destinationType": "new"},
                    {"restorePoint": {"id": "rp-2"}, "destinationType": "inPlace"},
                ]
            },
            400,
            "DifferentRestoreDestinationType",
        ),
        (artifacts("rp-1", "rp-1"), 400, "DuplicateArtifactInList"),
        (artifacts(*(f"rp-{i}" for i in range(51))), 413, "RestoreArtifactsLimitBreached"),
    ],
)
def test_each_documented_create_error(
    graph: httpx.Client, body: dict[str, object], status: int, code: str
) -> None:
    assert_graph_error(graph.post(SESSIONS, json=body), status, code)


def test_get_errors(graph: httpx.Client) -> None:
    assert_graph_error(graph.get(f"{SESSIONS}/not%20an%20id"), 400, "InvalidRestoreSessionId")
    assert_graph_error(graph.get(f"{SESSIONS}/{uuid.uuid4()}"), 404, "RestoreSessionNotFound")


def test_paging_walks_every_session_once(graph: httpx.Client) -> None:
    created = {new_session(graph, f"rp-page-{i}")["id"] for i in range(7)}
    seen: list[str] = []
    url: str | None = f"{SESSIONS}?$top=3"
    pages = 0
    while url:
        body = graph.get(url).json()
        assert len(body["value"]) <= 3
        seen += [s["id"] for s in body["value"]]
        url = body.get("@odata.nextLink")
        pages += 1
    assert len(seen) == len(set(seen))
    assert created <= set(seen)
    assert pages == -(-len(seen) // 3)
    assert_graph_error(graph.get(f"{SESSIONS}?$top=0"), 400, "BadRequest")


def test_patch_adds_and_removes_artifacts_on_a_draft(graph: httpx.Client) -> None:
    session = new_session(graph, "rp-p-1")
    path = f"{SESSIONS}/{session['id']}"
    added = graph.patch(
        path,
        json={
            "driveRestoreArtifacts@delta": [
                {"restorePoint": {"id": "rp-p-2"}, "destinationType": "new"},
                {"restorePoint": {"@odata.id": "rp-p-3"}, "destinationType": "new"},
            ]
        },
    )
    assert added.status_code == 200
    delta = added.json()["driveRestoreArtifacts@delta"]
    assert [a["status"] for a in delta] == ["added", "added"]
    removed = graph.patch(
        path,
        json={
            "driveRestoreArtifacts@delta": [
                {"@removed": {"reason": "changed"}, "id": delta[0]["id"]},
                {"@removed": {"reason": "changed"}, "id": "4267e382-71a9-4c07-bef7-bda97e09c0d2"},
            ]
        },
    )
    # As documented: a removal is not echoed; one that failed comes back as a 409 item.
    [failed] = removed.json()["driveRestoreArtifacts@delta"]
    assert failed["id"] == "4267e382-71a9-4c07-bef7-bda97e09c0d2"
    assert failed["@contentId"]
    assert failed["@Core.DataModificationException"] == {
        "info": {
            "code": "Invalid",
            "message": "The identifier to be removed from the restore session does not exist",
        },
        "failedOperation": "remove",
        "responseCode": 409,
    }
    listed = graph.get(f"{path}/driveRestoreArtifacts").json()["value"]
    assert sorted(a["restorePoint"]["id"] for a in listed) == ["rp-p-1", "rp-p-3"]
    again = graph.patch(
        path,
        json={
            "driveRestoreArtifacts@delta": [
                {"restorePoint": {"id": "rp-p-1"}, "destinationType": "new"}
            ]
        },
    ).json()["driveRestoreArtifacts@delta"][0]
    assert again["@Core.DataModificationException"]["info"]["code"] == "DuplicateArtifactInList"
    too_many = {
        "driveRestoreArtifacts@delta": [
            {"restorePoint": {"id": f"rp-x-{i}"}, "destinationType": "new"} for i in range(51)
        ]
    }
    assert_graph_error(graph.patch(path, json=too_many), 400, "RestoreArtifactsLimitBreached")
    mixed = {
        "driveRestoreArtifacts@delta": [
            {"restorePoint": {"id": "rp-p-9"}, "destinationType": "inPlace"}
        ]
    }
    assert_graph_error(graph.patch(path, json=mixed), 400, "DifferentRestoreDestinationType")


def test_the_clock_drives_a_session_to_completion(graph: httpx.Client, lab: Emulator) -> None:
    lab.control.post("/_emulator/failing-restore-points", json={"ids": ["rp-doomed"]})
    session = new_session(graph, "rp-fine", "rp-doomed")
    path = f"/restoreSessions/{session['id']}"
    activated = graph.post(f"{path}/activate")
    assert activated.status_code == 200
    assert activated.json()["status"] == "activating"
    for action in (graph.post(f"{path}/activate"), graph.delete(path)):
        assert_graph_error(action, 403, "RestoreSessionActionNotAllowed")
    patch = {
        "driveRestoreArtifacts@delta": [{"restorePoint": {"id": "x"}, "destinationType": "new"}]
    }
    assert_graph_error(
        graph.patch(f"{SESSIONS}/{session['id']}", json=patch),
        403,
        "RestoreSessionActionNotAllowed",
    )

    lab.advance_clock(31)
    running = graph.get(path).json()
    assert running["status"] == "active"
    assert running["restoreSessionArtifactCount"]["inProgress"] == 2

    lab.advance_clock(5 * 60)
    done = graph.get(path).json()
    assert done["status"] == "completedWithError"
    assert done["completedDateTime"]
    assert done["restoreSessionArtifactCount"] == {
        "total": 2,
        "completed": 1,
        "inProgress": 0,
        "failed": 1,
    }
    by_point = {
        a["restorePoint"]["id"]: a
        for a in graph.get(f"{SESSIONS}/{session['id']}/driveRestoreArtifacts").json()["value"]
    }
    assert by_point["rp-fine"]["status"] == "succeeded"
    assert by_point["rp-fine"]["restoredSiteWebUrl"]
    assert by_point["rp-doomed"]["status"] == "failed"
    assert by_point["rp-doomed"]["error"]["code"] == "ArtifactNotFound"


def test_a_draft_can_be_deleted(graph: httpx.Client) -> None:
    session = new_session(graph, "rp-del")
    assert graph.delete(f"/restoreSessions/{session['id']}").status_code == 204
    assert_graph_error(graph.get(f"{SESSIONS}/{session['id']}"), 404, "RestoreSessionNotFound")


def test_the_bulk_request_list_takes_no_query_option(graph: httpx.Client) -> None:
    """Graph's page for this list documents no query option: $top is refused, not obeyed
    (the gateway once sent $top=1000 here)."""
    draft = graph.post("/oneDriveForBusinessRestoreSessions", json={}).json()["id"]
    path = f"/oneDriveForBusinessRestoreSessions/{draft}/driveRestoreArtifactsBulkAdditionRequests"
    assert graph.get(path).status_code == 200
    refused = graph.get(path, params={"$top": "1000"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "BadRequest"


def test_at_most_25_sessions_are_active(graph: httpx.Client, lab: Emulator) -> None:
    lab.advance_clock(3600)  # let earlier tests' sessions finish
    for index in range(25):
        session = new_session(graph, f"rp-active-{index}")
        assert graph.post(f"/restoreSessions/{session['id']}/activate").status_code == 200
    one_more = new_session(graph, "rp-active-26")
    answer = graph.post(f"/restoreSessions/{one_more['id']}/activate")
    assert_graph_error(answer, 500, "TooManyActiveRestoreSessions")
    lab.advance_clock(3600)
    assert graph.post(f"/restoreSessions/{one_more['id']}/activate").status_code == 200


def test_tokens_without_the_role_or_signature_are_refused(lab: Emulator) -> None:
    with lab.graph_client(roles=["BackupRestore-Restore.Read.All"]) as reader:
        assert_graph_error(reader.post(SESSIONS, json=DOC_BODY), 403, "Authorization_RequestDenied")
        assert reader.get(SESSIONS).status_code == 200
    with lab.graph_client() as client:
        client.headers["Authorization"] = "Bearer not-a-jwt"
        assert_graph_error(client.get(SESSIONS), 401, "InvalidAuthenticationToken")
        del client.headers["Authorization"]
        assert_graph_error(client.get(SESSIONS), 401, "InvalidAuthenticationToken")


def test_the_same_seed_makes_the_same_tenant(tmp_path: Path) -> None:
    from graph_emulator.protection import Protection

    first, second = Protection(), Protection()
    first.seed(10_000, seed=7)
    second.seed(10_000, seed=7)
    assert list(first.units) == list(second.units)
    assert sum(len(u.restore_points) for u in first.seeded) == 10_000 * 14
    unit = next(iter(first.units.values()))
    times = [p.protected_at for p in unit.restore_points]
    assert times == sorted(times)


def test_late_enum_members_only_for_callers_who_ask(graph: httpx.Client, lab: Emulator) -> None:
    lab.control.post("/_emulator/failing-restore-points", json={"ids": ["rp-lost-1"]})
    session = new_session(graph, "rp-lost-1")
    path = f"/restoreSessions/{session['id']}"
    assert graph.post(f"{path}/activate").status_code == 200
    lab.advance_clock(3600)
    assert graph.get(path).json()["status"] == "unknownFutureValue"
    asked = graph.get(path, headers={"Prefer": "include-unknown-enum-members"})
    assert asked.json()["status"] == "failed"


def test_unknown_paths_and_methods_get_graphs_error_json(graph: httpx.Client) -> None:
    assert_graph_error(graph.get("/oneDriveForBusinessRestoreSessionz"), 400, "BadRequest")
    assert_graph_error(graph.put(SESSIONS, json={}), 405, "MethodNotAllowed")


def test_a_body_graphs_schema_refuses_is_refused(graph: httpx.Client, lab: Emulator) -> None:
    odd = {
        "driveRestoreArtifacts": [
            {"restorePoint": {"id": "rp-s-1"}, "destinationType": "new", "status": 5}
        ]
    }
    answer = graph.post(SESSIONS, json=odd, headers={"client-request-id": str(uuid.uuid4())})
    assert_graph_error(answer, 400, "BadRequest")
    assert "driveRestoreArtifacts/0/status" in answer.json()["error"]["message"]
    [refusal] = lab.counters()["schema_refusals"][-1:]
    assert refusal["client_request_id"] == answer.headers["client-request-id"]
    activate = graph.post(
        f"/restoreSessions/{new_session(graph, 'rp-s-2')['id']}/activate", json={}
    )
    assert_graph_error(activate, 400, "BadRequest")
