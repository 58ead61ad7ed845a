"""The emulator answers browse sessions, browse and granular OneDrive and SharePoint
restore as graph-api-granular.md documents them (and as its README reads the gaps)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from processes import Emulator, running_emulator
from test_emulator_sessions import assert_graph_error

ONEDRIVE = "/oneDriveForBusinessBrowseSessions"
SHAREPOINT = "/sharePointBrowseSessions"
# Seeded points are daily, the newest 7 fastRestore; the epoch is 2026-11-01.
SINCE = {"startDateTime": "2026-10-01T00:00:00Z"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator of this module's own: these tests move its clock by days."""
    seeds = ("--seed-drives", "3", "--seed-sites", "2")
    with running_emulator(tmp_path_factory.mktemp("browse"), *seeds) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def graph(lab: Emulator) -> Iterator[httpx.Client]:
    with lab.graph_client() as client:
        yield client


def points(
    graph: httpx.Client, unit_id: str, tags: str = "", until: str = ""
) -> list[dict[str, Any]]:
    """Up to five of the unit's restore points since October (or until `until`), newest
    first (only fastRestore ones with the tag)."""
    period = {**SINCE, "endDateTime": until} if until else SINCE
    search: dict[str, Any] = {"protectionUnitIds": [unit_id], "protectionTimePeriod": period}
    if tags:
        search["tags"] = tags
    found = graph.post("/restorePoints/search", json=search)
    assert found.status_code == 200, found.text
    return [result["restorePoint"] for result in found.json()["searchResults"]]


def drive(graph: httpx.Client, index: int = 0) -> dict[str, Any]:
    [unit] = graph.get(
        "/driveProtectionUnits", params={"$filter": f"email eq 'user{index:05d}@contoso.com'"}
    ).json()["value"]
    return dict(unit)


def site(graph: httpx.Client, name: str = "site00000") -> dict[str, Any]:
    units = graph.get("/siteProtectionUnits").json()["value"]
    return next(u for u in units if u["siteWebUrl"].endswith(f"/sites/{name}"))


def created(graph: httpx.Client, lab: Emulator, entity_set: str, point_id: str) -> str:
    """A browse session on the point, moved past `creating`."""
    answer = graph.post(entity_set, json={"restorePointId": point_id})
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "creating"
    lab.advance_clock(5)
    return str(answer.json()["id"])


def browse(
    graph: httpx.Client, path: str, key: str | None = None, kind: str | None = None, **more: str
) -> dict[str, Any]:
    body = {"browseLocationItemKey": key, "browseResourceType": kind, **more} if key else more
    answer = graph.post(f"{path}/browse", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def child(listing: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(next(item for item in listing["value"] if item["name"] == name))


def every_page(graph: httpx.Client, first: dict[str, Any]) -> list[dict[str, Any]]:
    items, page = list(first["value"]), first
    while "@odata.nextLink" in page:
        page = graph.get(page["@odata.nextLink"]).json()
        assert page["@odata.count"] == len(page["value"])
        items += page["value"]
    return items


def documents(graph: httpx.Client, path: str) -> dict[str, Any]:
    """The Documents library of a browse session's site."""
    [top] = browse(graph, path)["value"]
    return child(browse(graph, path, top["itemKey"], "site"), "Documents")


def listing(graph: httpx.Client, path: str, *names: str) -> list[dict[str, Any]]:
    """Every item of /Documents/<names...> in a browse session, all pages."""
    where = documents(graph, path)
    for name in names:
        below = browse(graph, path, where["itemKey"], where["type"])
        where = child({"value": every_page(graph, below)}, name)
    return every_page(graph, browse(graph, path, where["itemKey"], where["type"]))


def test_a_browse_session_is_created_on_a_fast_restore_point(
    graph: httpx.Client, lab: Emulator
) -> None:
    unit = drive(graph)
    newest = points(graph, unit["id"], "fastRestore")[0]
    answer = graph.post(ONEDRIVE, json={"restorePointId": newest["id"]})
    assert answer.status_code == 201, answer.text
    session = answer.json()
    assert session["status"] == "creating"
    assert session["directoryObjectId"] == unit["directoryObjectId"]
    assert session["restorePointDateTime"] == newest["protectionDateTime"]
    assert int(session["backupSizeInBytes"]) > 0
    assert "restorePointId" not in session  # as documented: never echoed
    path = f"{ONEDRIVE}/{session['id']}"
    assert_graph_error(graph.post(f"{path}/browse", json={}), 409, "BrowseSessionNotReady")
    lab.advance_clock(5)
    got = graph.get(path).json()
    assert got["status"] == "created"
    assert {s["id"] for s in graph.get(ONEDRIVE).json()["value"]} >= {session["id"]}
    assert session["id"] not in {s["id"] for s in graph.get(SHAREPOINT).json()["value"]}
    kinds = {s["@odata.type"] for s in graph.get("/browseSessions").json()["value"]}
    assert "#microsoft.graph.oneDriveForBusinessBrowseSession" in kinds
    assert_graph_error(graph.get(f"{SHAREPOINT}/{session['id']}"), 404, "BrowseSessionNotFound")
    assert_graph_error(graph.get(f"{path}?$select=id"), 400, "BadRequest")
    received = lab.counters()["received"]
    assert received["GET /v1.0/solutions/backupRestore/oneDriveForBusinessBrowseSessions/{id}"]
    assert received[
        "POST /v1.0/solutions/backupRestore/oneDriveForBusinessBrowseSessions/{id}/browse"
    ]
    made = lab.control.get("/_emulator/browse-sessions").json()["browse_sessions"]
    [mine] = [s for s in made if s["id"] == session["id"]]
    assert (mine["restore_point_id"], mine["app_id"]) == (newest["id"], lab.info["client_id"])


def test_other_points_are_refused(graph: httpx.Client, lab: Emulator) -> None:
    unit = drive(graph)
    # Only the newest 7 daily points are fastRestore.
    slow = points(graph, unit["id"], until="2026-10-22T00:00:00Z")
    assert slow[0]["tags"] == "none"
    site_point = points(graph, site(graph)["id"], "fastRestore")[0]
    for entity_set, point_id in (
        (ONEDRIVE, slow[0]["id"]),
        (ONEDRIVE, site_point["id"]),
        (SHAREPOINT, points(graph, unit["id"], "fastRestore")[0]["id"]),
        (ONEDRIVE, "9f0b6a1e-0000-4000-8000-000000000000"),
    ):
        answer = graph.post(entity_set, json={"restorePointId": point_id})
        assert_graph_error(answer, 400, "InvalidRestorePoint")
    assert_graph_error(graph.post(ONEDRIVE, json={}), 400, "InvalidRestorePoint")
    odd = graph.post(ONEDRIVE, json={"restorePointId": slow[0]["id"], "status": 3})
    assert_graph_error(odd, 400, "BadRequest")
    fast = points(graph, unit["id"], "fastRestore")[0]["id"]
    read_only = graph.post(ONEDRIVE, json={"restorePointId": fast, "status": "created"})
    assert_graph_error(read_only, 400, "BadRequest")


def test_reading_browse_sessions_needs_read_write(lab: Emulator) -> None:
    with lab.graph_client(roles=["BackupRestore-Restore.Read.All"]) as reader:
        assert_graph_error(reader.get(ONEDRIVE), 403, "Authorization_RequestDenied")
        assert_graph_error(reader.get("/browseSessions"), 403, "Authorization_RequestDenied")


def test_browse_walks_a_drive_from_its_site_down(graph: httpx.Client, lab: Emulator) -> None:
    unit = drive(graph, 1)
    session_id = created(graph, lab, ONEDRIVE, points(graph, unit["id"], "fastRestore")[0]["id"])
    for path in (f"{ONEDRIVE}/{session_id}", f"/browseSessions/{session_id}"):
        [top] = browse(graph, path)["value"]
        assert (top["type"], top["name"]) == ("site", "user00001")
        assert top["webUrl"] == "https://contoso-my.sharepoint.com/personal/user00001_contoso_com"
        assert "itemsCount" not in top  # as documented for the top site
        library = documents(graph, path)
        assert library["type"] == "documentLibrary"
        assert library["webUrl"] == f"{top['webUrl']}/Documents"
        folders = browse(graph, path, library["itemKey"], "documentLibrary")
        assert {"Finance", "Contracts", "Projects", "Photos", "readme.txt"} == {
            item["name"] for item in folders["value"]
        }
        contracts = child(folders, "Contracts")
        files = browse(graph, path, contracts["itemKey"], "folder")["value"]
        msa = next(f for f in files if f["name"] == "msa.docx")
        assert (msa["type"], msa["itemsCount"]) == ("file", 0)
        assert msa["itemKey"].startswith(library["itemKey"] + ",")
        assert len(msa["itemKey"].split(",")) == 4
        assert contracts["itemsCount"] == len(files)
        assert int(contracts["sizeInBytes"]) == sum(int(f["sizeInBytes"]) for f in files)
    path = f"{ONEDRIVE}/{session_id}"
    library = documents(graph, path)
    assert_graph_error(
        graph.post(
            f"{path}/browse",
            json={"browseLocationItemKey": library["itemKey"], "browseResourceType": "folder"},
        ),
        400,
        "BadRequest",
    )
    unknown = {"browseLocationItemKey": "1,2,3,4", "browseResourceType": "folder"}
    assert_graph_error(graph.post(f"{path}/browse", json=unknown), 404, "ItemNotFound")
    half = {"browseLocationItemKey": library["itemKey"]}
    assert_graph_error(graph.post(f"{path}/browse", json=half), 400, "BadRequest")
    # The SharePoint page sends no body at all: read as {}.
    assert graph.post(f"{path}/browse", content=b"").status_code == 200


def test_browse_pages_filters_and_orders(graph: httpx.Client, lab: Emulator) -> None:
    unit = drive(graph, 2)
    session_id = created(graph, lab, ONEDRIVE, points(graph, unit["id"], "fastRestore")[0]["id"])
    for path in (f"{ONEDRIVE}/{session_id}", f"/browseSessions/{session_id}"):
        folders = browse(graph, path, documents(graph, path)["itemKey"], "documentLibrary")
        photos = child(folders, "Photos")
        first = browse(graph, path, photos["itemKey"], "folder")
        assert first["@odata.count"] == len(first["value"]) == 10
        assert first["@odata.nextLink"].startswith(
            f"{str(graph.base_url).rstrip('/')}{path}/browse?"
        )
        assert "skiptoken" in first["@odata.nextLink"]
        names = [item["name"] for item in every_page(graph, first)]
        assert len(names) == len(set(names)) == photos["itemsCount"] > 20
        assert names == sorted(names)
        backwards = browse(graph, path, photos["itemKey"], "folder", orderBy="nameDsc")
        assert [i["name"] for i in every_page(graph, backwards)] == names[::-1]
        some = browse(graph, path, photos["itemKey"], "folder", filter="(name -contains 'img_000')")
        assert [i["name"] for i in some["value"]] == [n for n in names if "IMG_000" in n]
    path = f"{ONEDRIVE}/{session_id}"
    folder = child(
        browse(graph, path, documents(graph, path)["itemKey"], "documentLibrary"), "Photos"
    )
    for odd in ({"filter": "name eq 'x'"}, {"orderBy": "sizeAsc"}):
        body = {"browseLocationItemKey": folder["itemKey"], "browseResourceType": "folder", **odd}
        assert_graph_error(graph.post(f"{path}/browse", json=body), 400, "BadRequest")
    written = {"session": session_id, "offset": 0, "itemkey": [1], "type": "folder"}
    for token in ("bm90IGpzb24", base64.urlsafe_b64encode(json.dumps(written).encode()).decode()):
        answer = graph.get(f"{path}/browse", params={"$skiptoken": token})
        assert_graph_error(answer, 400, "BadRequest")
    assert_graph_error(graph.get(f"{path}/browse"), 400, "BadRequest")
    # A page token is bound to its session.
    next_link = browse(graph, path, folder["itemKey"], "folder")["@odata.nextLink"]
    other = created(graph, lab, ONEDRIVE, points(graph, unit["id"], "fastRestore")[1]["id"])
    borrowed = next_link.replace(session_id, other)
    assert_graph_error(graph.get(borrowed), 400, "BadRequest")


def test_each_point_shows_the_tree_as_it_was(graph: httpx.Client, lab: Emulator) -> None:
    unit = drive(graph)
    newest, *_, oldest = points(graph, unit["id"], "fastRestore")

    def files_at(point: dict[str, Any]) -> dict[str, str]:
        path = f"{ONEDRIVE}/{created(graph, lab, ONEDRIVE, point['id'])}"
        found = [*listing(graph, path, "Finance", "Invoices"), *listing(graph, path, "Photos")]
        return {item["name"]: item["sizeInBytes"] for item in found}

    earlier, later = files_at(oldest), files_at(newest)
    assert set(earlier) < set(later)  # files came in between the two points
    assert files_at(oldest) == earlier


def test_a_site_is_browsed_by_its_libraries(graph: httpx.Client, lab: Emulator) -> None:
    unit = site(graph)
    session_id = created(graph, lab, SHAREPOINT, points(graph, unit["id"], "fastRestore")[0]["id"])
    session = graph.get(f"{SHAREPOINT}/{session_id}").json()
    assert session["siteId"] == unit["siteId"]
    path = f"{SHAREPOINT}/{session_id}"
    [top] = browse(graph, path)["value"]
    assert (top["type"], top["webUrl"]) == ("site", unit["siteWebUrl"])
    libraries = browse(graph, path, top["itemKey"], "site")
    assert [i["name"] for i in libraries["value"]] == ["Documents", "Site Assets"]
    assert child(libraries, "Documents")["webUrl"] == f"{unit['siteWebUrl']}/Shared Documents"


def granular_session(
    graph: httpx.Client, entity_set: str, key: str, session_id: str, *item_keys: str
) -> dict[str, Any]:
    items = [{"browseSessionId": session_id, "id": item_key} for item_key in item_keys]
    answer = graph.post(f"/{entity_set}", json={key: items})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_granular_items_restore_into_a_restore_folder(graph: httpx.Client, lab: Emulator) -> None:
    unit = drive(graph, 1)
    session_id = created(graph, lab, ONEDRIVE, points(graph, unit["id"], "fastRestore")[0]["id"])
    path = f"{ONEDRIVE}/{session_id}"
    folders = browse(graph, path, documents(graph, path)["itemKey"], "documentLibrary")
    finance = child(folders, "Finance")
    msa = child(browse(graph, path, child(folders, "Contracts")["itemKey"], "folder"), "msa.docx")
    restore = granular_session(
        graph,
        "oneDriveForBusinessRestoreSessions",
        "granularDriveRestoreArtifacts",
        session_id,
        finance["itemKey"],
        msa["itemKey"],
    )
    assert restore["status"] == "draft"
    asked = graph.get(
        f"/restoreSessions/{restore['id']}", headers={"Prefer": "include-unknown-enum-members"}
    ).json()
    assert asked["restoreJobType"] == "granular"
    artifacts = f"/oneDriveForBusinessRestoreSessions/{restore['id']}/granularDriveRestoreArtifacts"
    listed = graph.get(artifacts).json()["value"]
    assert [a["id"] for a in listed] == [finance["itemKey"], msa["itemKey"]]
    expanded = graph.get(
        "/oneDriveForBusinessRestoreSessions",
        params={"$expand": "driveRestoreArtifacts", "$top": 1000},
    ).json()["value"]
    [session] = [s for s in expanded if s["id"] == restore["id"]]
    assert session["driveRestoreArtifacts"] == []  # granular items are not drive artifacts
    assert {a["status"] for a in listed} == {"added"}
    assert {a["restoredItemPath"] for a in listed} == {""}
    assert {a["startDateTime"] for a in listed} == {"0001-01-01T00:00:00Z"}
    assert {a["directoryObjectId"] for a in listed} == {unit["directoryObjectId"]}
    held = lab.control.get("/_emulator/sessions").json()["sessions"]
    [record] = [s for s in held if s["id"] == restore["id"]]
    assert record["artifact_ids"] == [finance["itemKey"], msa["itemKey"]]
    assert graph.post(f"/restoreSessions/{restore['id']}/activate").status_code == 200
    lab.advance_clock(31 + 5 * 60)
    assert graph.get(f"/restoreSessions/{restore['id']}").json()["status"] == "completed"
    done = {a["id"]: a for a in graph.get(artifacts).json()["value"]}
    folder = done[msa["itemKey"]]["restoredItemPath"]
    assert folder.startswith("/Documents/Restored-")
    assert done[finance["itemKey"]]["restoredItemPath"] == folder
    library_url = f"{unit_web_url(1)}/Documents"
    assert (
        done[msa["itemKey"]]["restoredItemWebUrl"]
        == f"{library_url}{folder.removeprefix('/Documents')}/msa.docx"
    )
    assert done[finance["itemKey"]]["webUrl"] == finance["webUrl"]
    assert {a["status"] for a in done.values()} == {"succeeded"}
    assert all(
        a["restoredItemKey"] and a["completionDateTime"] != "0001-01-01T00:00:00Z"
        for a in done.values()
    )


def unit_web_url(index: int) -> str:
    return f"https://contoso-my.sharepoint.com/personal/user{index:05d}_contoso_com"


def test_granular_sessions_take_only_files_and_folders_of_live_sessions(
    graph: httpx.Client, lab: Emulator
) -> None:
    unit = drive(graph, 2)
    session_id = created(graph, lab, ONEDRIVE, points(graph, unit["id"], "fastRestore")[0]["id"])
    path = f"{ONEDRIVE}/{session_id}"
    library = documents(graph, path)
    readme = child(browse(graph, path, library["itemKey"], "documentLibrary"), "readme.txt")
    sessions = "/oneDriveForBusinessRestoreSessions"
    for items, code in (
        ([{"browseSessionId": session_id, "id": library["itemKey"]}], "InvalidArtifactRequest"),
        ([{"browseSessionId": session_id, "id": "1,2,3,4"}], "InvalidArtifactRequest"),
        ([{"browseSessionId": "never-made", "id": readme["itemKey"]}], "InvalidArtifactRequest"),
        ([{"browseSessionId": session_id, "id": readme["itemKey"]}] * 2, "DuplicateArtifactInList"),
        ([], "InvalidArtifactRequest"),
        (
            [{"browseSessionId": session_id, "id": readme["itemKey"], "destinationType": "new"}],
            "BadRequest",
        ),
        ([{"browseSessionId": session_id, "itemKey": readme["itemKey"]}], "BadRequest"),
        ([{"browseSessionId": session_id, "id": [readme["itemKey"]]}], "InvalidArtifactRequest"),
        ([{"browseSessionId": session_id}], "InvalidArtifactRequest"),
    ):
        answer = graph.post(sessions, json={"granularDriveRestoreArtifacts": items})
        assert_graph_error(answer, 400, code)
    # A OneDrive browse session's items are not a site's.
    site_answer = graph.post(
        "/sharePointRestoreSessions",
        json={
            "granularSiteRestoreArtifacts": [
                {"browseSessionId": session_id, "id": readme["itemKey"]}
            ]
        },
    )
    assert_graph_error(site_answer, 400, "InvalidArtifactRequest")
    both = {
        "granularDriveRestoreArtifacts": [{"browseSessionId": session_id, "id": readme["itemKey"]}],
        "driveRestoreArtifacts": [{"restorePoint": {"id": "rp-mixed"}, "destinationType": "new"}],
    }
    assert_graph_error(graph.post(sessions, json=both), 400, "InvalidArtifactRequest")
    standard = graph.post(sessions, json={"driveRestoreArtifacts": both["driveRestoreArtifacts"]})
    add = {"granularDriveRestoreArtifacts@delta": both["granularDriveRestoreArtifacts"]}
    answer = graph.patch(f"{sessions}/{standard.json()['id']}", json=add)
    assert_graph_error(answer, 403, "RestoreSessionActionNotAllowed")


def test_granular_items_are_added_and_removed_in_a_draft(
    graph: httpx.Client, lab: Emulator
) -> None:
    unit = site(graph, "site00001")
    session_id = created(graph, lab, SHAREPOINT, points(graph, unit["id"], "fastRestore")[0]["id"])
    path = f"{SHAREPOINT}/{session_id}"
    folders = browse(graph, path, documents(graph, path)["itemKey"], "documentLibrary")
    finance, photos = child(folders, "Finance"), child(folders, "Photos")
    restore = granular_session(
        graph,
        "sharePointRestoreSessions",
        "granularSiteRestoreArtifacts",
        session_id,
        finance["itemKey"],
    )
    patch_path = f"/sharePointRestoreSessions/{restore['id']}"
    delta = graph.patch(
        patch_path,
        json={
            "granularSiteRestoreArtifacts@delta": [
                {"browseSessionId": session_id, "id": photos["itemKey"]},
                {"browseSessionId": session_id, "id": finance["itemKey"]},
                {"@removed": {"reason": "changed"}, "id": finance["itemKey"]},
                {"@removed": {"reason": "changed"}, "id": "not-held"},
            ]
        },
    )
    assert delta.status_code == 200, delta.text
    added, duplicate, removed, failed = delta.json()["granularSiteRestoreArtifacts@delta"]
    assert (added["id"], added["status"], added["siteId"]) == (
        photos["itemKey"],
        "added",
        unit["siteId"],
    )
    assert duplicate["@Core.DataModificationException"]["info"]["code"] == "DuplicateArtifactInList"
    assert removed == {"id": finance["itemKey"], "@removed": {"reason": "changed"}}
    assert failed["@Core.DataModificationException"]["responseCode"] == 409
    listed = graph.get(f"{patch_path}/granularSiteRestoreArtifacts").json()["value"]
    assert [a["id"] for a in listed] == [photos["itemKey"]]
    standard = {
        "siteRestoreArtifacts@delta": [
            {"restorePoint": {"id": "rp-site-x"}, "destinationType": "new"}
        ]
    }
    assert_graph_error(
        graph.patch(patch_path, json=standard), 403, "RestoreSessionActionNotAllowed"
    )
    # Only the OneDrive page names an added item by itemKey.
    aliased = {
        "granularSiteRestoreArtifacts@delta": [
            {"browseSessionId": session_id, "itemKey": finance["itemKey"]}
        ]
    }
    assert_graph_error(graph.patch(patch_path, json=aliased), 400, "BadRequest")


def test_a_browse_session_is_gone_at_expiry(graph: httpx.Client, lab: Emulator) -> None:
    unit = drive(graph)
    session_id = created(graph, lab, ONEDRIVE, points(graph, unit["id"], "fastRestore")[0]["id"])
    path = f"{ONEDRIVE}/{session_id}"
    readme = child(
        browse(graph, path, documents(graph, path)["itemKey"], "documentLibrary"), "readme.txt"
    )
    restore = granular_session(
        graph,
        "oneDriveForBusinessRestoreSessions",
        "granularDriveRestoreArtifacts",
        session_id,
        readme["itemKey"],
    )
    session = graph.get(path).json()
    assert session["expirationDateTime"] > session["createdDateTime"]
    lab.advance_clock(3 * 24 * 3600)
    assert_graph_error(graph.get(path), 404, "BrowseSessionNotFound")
    assert_graph_error(graph.post(f"{path}/browse", json={}), 404, "BrowseSessionNotFound")
    assert session_id not in {s["id"] for s in graph.get("/browseSessions").json()["value"]}
    late = {
        "granularDriveRestoreArtifacts": [{"browseSessionId": session_id, "id": readme["itemKey"]}]
    }
    assert_graph_error(
        graph.post("/oneDriveForBusinessRestoreSessions", json=late), 400, "InvalidArtifactRequest"
    )
    # An item whose browse session expired before the restore started fails.
    assert graph.post(f"/restoreSessions/{restore['id']}/activate").status_code == 200
    lab.advance_clock(31 + 5 * 60)
    [artifact] = graph.get(
        f"/oneDriveForBusinessRestoreSessions/{restore['id']}/granularDriveRestoreArtifacts"
    ).json()["value"]
    assert artifact["status"] == "failed"
    assert artifact["restoredItemPath"] == ""


def test_a_point_that_cannot_be_prepared_fails_its_browse_session(
    graph: httpx.Client, lab: Emulator
) -> None:
    point = points(graph, drive(graph, 2)["id"], "fastRestore")[2]
    lab.control.post("/_emulator/failing-restore-points", json={"ids": [point["id"]]})
    session_id = created(graph, lab, ONEDRIVE, point["id"])
    session = graph.get(f"{ONEDRIVE}/{session_id}").json()
    assert session["status"] == "failed"
    assert session["error"]["code"]
    answer = graph.post(f"{ONEDRIVE}/{session_id}/browse", json={})
    assert_graph_error(answer, 409, "BrowseSessionNotReady")


def test_the_same_seed_makes_the_same_tree() -> None:
    from datetime import UTC, datetime

    from graph_emulator.tree import seeded_tree

    epoch = datetime(2026, 11, 1, tzinfo=UTC)
    first = seeded_tree("unit-1", "a", "https://x", False, epoch)
    second = seeded_tree("unit-1", "a", "https://x", False, epoch)
    other = seeded_tree("unit-2", "a", "https://x", False, epoch)
    shape = [(i.key, i.path, i.size, i.appeared, i.modified) for i in first.site.walk()]
    assert shape == [(i.key, i.path, i.size, i.appeared, i.modified) for i in second.site.walk()]
    assert shape != [(i.key, i.path, i.size, i.appeared, i.modified) for i in other.site.walk()]
    files = [i for i in first.site.walk() if i.type == "file"]
    assert len({i.modified for i in files}) > 1
    assert any(i.size != i.size_before for i in files)
