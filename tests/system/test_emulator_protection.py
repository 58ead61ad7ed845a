"""Protected drives, restore point search and bulk addition, as graph-api.md documents them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from processes import Emulator, running_emulator

SESSIONS = "/oneDriveForBusinessRestoreSessions"
WINDOW = {"startDateTime": "2026-10-01T00:00:00Z", "endDateTime": "2026-11-01T00:00:00Z"}
SEEDED_DRIVES = 30


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("protection")


@pytest.fixture(scope="module")
def lab(state_dir: Path) -> Iterator[Emulator]:
    with running_emulator(state_dir, "--seed-drives", str(SEEDED_DRIVES)) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def graph(lab: Emulator) -> Iterator[httpx.Client]:
    with lab.graph_client() as client:
        yield client


@pytest.fixture(scope="module")
def listed(graph: httpx.Client) -> list[dict[str, Any]]:
    """Every drive protection unit, page by page, as an app sees them."""
    found: list[dict[str, Any]] = []
    url: str | None = "/driveProtectionUnits?$top=7"
    while url:
        body = graph.get(url).json()
        found += body["value"]
        url = body.get("@odata.nextLink")
    return found


@pytest.fixture(scope="module")
def owners(lab: Emulator, state_dir: Path) -> dict[str, str]:
    """Unit id -> owner e-mail of the seeded drives (an app never reads e-mails from Graph)."""
    with (state_dir / "protected-drives.csv").open() as handle:
        return {row["protection_unit_id"]: row["email"] for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def units(listed: list[dict[str, Any]], owners: dict[str, str]) -> list[dict[str, Any]]:
    """The seeded drives' units, with their owners' e-mail from the CSV."""
    return [{**u, "email": owners[u["id"]]} for u in listed if u["id"] in owners]


def search(graph: httpx.Client, unit_ids: list[str], **extra: Any) -> httpx.Response:
    return graph.post(
        "/restorePoints/search",
        json={"protectionUnitIds": unit_ids, "protectionTimePeriod": WINDOW, **extra},
    )


def test_protection_units_list_page_by_page_and_filter_by_email(
    graph: httpx.Client, listed: list[dict[str, Any]], units: list[dict[str, Any]]
) -> None:
    assert len(units) == SEEDED_DRIVES
    assert len({u["id"] for u in listed}) == len(listed)
    unit = listed[3]
    assert unit["@odata.type"] == "#microsoft.graph.driveProtectionUnit"
    assert set(unit) >= {"id", "directoryObjectId", "policyId", "status"}
    # E-mail and display name come only with delegated permissions: never to an app.
    assert not set(unit) & {"email", "displayName"}
    assert graph.get(f"/driveProtectionUnits/{unit['id']}").json() == unit
    unit = units[3]
    by_email = graph.get("/driveProtectionUnits", params={"$filter": f"email eq '{unit['email']}'"})
    assert [u["id"] for u in by_email.json()["value"]] == [unit["id"]]
    assert (
        graph.get("/driveProtectionUnits", params={"$filter": "startswith(email,'a')"}).status_code
        == 400
    )


def test_search_returns_at_most_five_latest_points_per_unit(
    graph: httpx.Client, units: list[dict[str, Any]]
) -> None:
    ids = [u["id"] for u in units[:3]]
    answer = search(graph, [*ids, "00000000-0000-4000-8000-000000000000"])
    assert answer.status_code == 200
    body = answer.json()
    assert body["searchResponseId"]
    assert body["noResultProtectionUnitIds"] == ["00000000-0000-4000-8000-000000000000"]
    for unit_id in ids:
        points = [
            r["restorePoint"]
            for r in body["searchResults"]
            if r["restorePoint"]["protectionUnit"]["id"] == unit_id
        ]
        assert len(points) == 5
        times = [p["protectionDateTime"] for p in points]
        assert times == sorted(times, reverse=True)
        assert graph.get(f"/restorePoints/{points[0]['id']}").json()["id"] == points[0]["id"]
    # With a preference, the one point it picks.
    [oldest] = search(graph, ids[:1], restorePointPreference="oldest").json()["searchResults"]
    [latest] = search(graph, ids[:1], restorePointPreference="latest").json()["searchResults"]
    assert (
        oldest["restorePoint"]["protectionDateTime"] < latest["restorePoint"]["protectionDateTime"]
    )


def test_search_refuses_more_than_20_units_and_bad_ids(
    graph: httpx.Client, units: list[dict[str, Any]]
) -> None:
    ids = [u["id"] for u in units]
    assert search(graph, ids[:20]).status_code == 200
    assert search(graph, ids[:21]).json()["error"]["code"] == "InvalidSearchRequest"
    assert search(graph, ["a b"]).json()["error"]["code"] == "InvalidProtectionUnitId"
    no_window = graph.post("/restorePoints/search", json={"protectionUnitIds": ids[:1]})
    assert no_window.json()["error"]["code"] == "InvalidSearchRequest"
    # The documented example sends only the start.
    only_start = {"startDateTime": WINDOW["startDateTime"]}
    since = graph.post(
        "/restorePoints/search",
        json={"protectionUnitIds": ids[:1], "protectionTimePeriod": only_start},
    )
    assert since.status_code == 200 and since.json()["searchResults"]


def test_search_needs_the_search_role(lab: Emulator, units: list[dict[str, Any]]) -> None:
    with lab.graph_client(roles=["BackupRestore-Restore.ReadWrite.All"]) as client:
        answer = search(client, [units[0]["id"]])
    assert answer.status_code == 403


def bulk_body(**names: list[str]) -> dict[str, Any]:
    return {
        "displayName": "bad day",
        "protectionTimePeriod": WINDOW,
        "destinationType": "new",
        "restorePointPreference": "latest",
        **names,
    }


def test_a_bulk_request_fills_a_session_graph_picks_the_points(
    graph: httpx.Client, lab: Emulator, units: list[dict[str, Any]]
) -> None:
    session = graph.post(SESSIONS, content=b"").json()
    bulk_path = f"{SESSIONS}/{session['id']}/driveRestoreArtifactsBulkAdditionRequests"
    created = graph.post(
        bulk_path,
        json=bulk_body(
            drives=[units[0]["email"], units[1]["email"]],
            directoryObjectIds=[units[2]["directoryObjectId"], units[3]["directoryObjectId"]],
            protectionUnitIds=[],
        ),
    )
    assert created.status_code == 201, created.text
    bulk = created.json()
    assert bulk["status"] == "active"
    assert graph.get(f"{bulk_path}/{bulk['id']}").json()["id"] == bulk["id"]
    assert [b["id"] for b in graph.get(bulk_path).json()["value"]] == [bulk["id"]]

    filled = graph.get(f"{SESSIONS}/{session['id']}").json()
    assert filled["restoreJobType"] == "bulk"
    assert filled["restoreSessionArtifactCount"]["total"] == 4

    second = graph.post(bulk_path, json=bulk_body(drives=[units[4]["email"]]))
    assert second.json()["error"]["code"] == "BulkRestoreInvalidCreateRequest"
    patch = {
        "driveRestoreArtifacts@delta": [{"restorePoint": {"id": "x"}, "destinationType": "new"}]
    }
    assert graph.patch(f"{SESSIONS}/{session['id']}", json=patch).status_code == 403

    assert graph.post(f"/restoreSessions/{session['id']}/activate").status_code == 200
    lab.advance_clock(3600)
    assert graph.get(f"{bulk_path}/{bulk['id']}").json()["status"] == "completed"


def test_bulk_request_errors(graph: httpx.Client, units: list[dict[str, Any]]) -> None:
    def bulk_error(**names: list[str]) -> str:
        session = graph.post(SESSIONS, content=b"").json()
        answer = graph.post(
            f"{SESSIONS}/{session['id']}/driveRestoreArtifactsBulkAdditionRequests",
            json=bulk_body(**names),
        )
        assert answer.status_code == 400
        return str(answer.json()["error"]["code"])

    too_many = [f"user{i}@contoso.com" for i in range(10_001)]
    assert bulk_error(drives=too_many) == "BulkRestoreRestorationResourcesCountExceedsLimit"
    assert bulk_error(drives=["nobody@contoso.com"]) == "BulkRestoreInvalidCreateRequestUserEmail"
    assert bulk_error() == "BulkRestoreInvalidCreateRequest"
    # Documented as not implemented: refused rather than guessed at.
    assert bulk_error(protectionUnitIds=[units[0]["id"]]) == "BulkRestoreInvalidCreateRequest"
    missing = graph.get(
        f"{SESSIONS}/{graph.post(SESSIONS, content=b'').json()['id']}"
        "/driveRestoreArtifactsBulkAdditionRequests/nope"
    )
    assert missing.json()["error"]["code"] == "BulkRestoreArtifactsNotFound"
