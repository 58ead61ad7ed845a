"""Contract tests from Microsoft's documented browse session and granular OneDrive and
SharePoint bodies (tests/contract/graph-examples/browse-*, sharepoint-browse-*,
*-granular*): the emulator accepts each documented request as it is and answers in the
documented shape, every answer fitting Graph's schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graph_emulator import schema
from processes import Emulator, running_emulator
from test_contract import EXAMPLES, example, is_granular_file, shape_problems

# The documented browse sessions (OneDrive's; the pages reuse them for SharePoint).
DOCUMENTED_SESSION = "m_RtZ8BiiUXOK69cuN6gwubfm9_yeVlDg8s6hci01_cVOAE"
KINDS = [
    pytest.param(
        "browse-onedrive",
        "oneDriveForBusinessBrowseSessions",
        "oneDriveForBusinessBrowseSession",
        id="onedrive",
    ),
    pytest.param(
        "sharepoint-browse",
        "sharePointBrowseSessions",
        "sharePointBrowseSession",
        id="sharepoint",
    ),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator of this module's own: the documented browse sessions live 3 days of its
    clock, which other modules' tests move."""
    with running_emulator(tmp_path_factory.mktemp("browse-contract")) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def graph(lab: Emulator) -> Iterator[httpx.Client]:
    with lab.graph_client() as client:
        yield client


def fits(type_name: str, body: Any) -> list[str]:
    return schema.problems(schema.validator(type_name), body)


def new_session(graph: httpx.Client, lab: Emulator, prefix: str, entity_set: str) -> str:
    """A session of the documented create request, past `creating`."""
    created = graph.post(f"/{entity_set}", json=example(f"{prefix}-create.request.json"))
    assert created.status_code == 201, created.text
    lab.advance_clock(5)
    return str(created.json()["id"])


def fits_browse_answer(body: dict[str, Any]) -> None:
    assert body["@odata.count"] == len(body["value"])
    for item in body["value"]:
        assert fits("browseQueryResponseItem", item) == []


@pytest.mark.parametrize(("prefix", "entity_set", "type_name"), KINDS)
def test_create_get_and_list(
    graph: httpx.Client, lab: Emulator, prefix: str, entity_set: str, type_name: str
) -> None:
    request = example(f"{prefix}-create.request.json")
    assert fits(type_name, request) == []
    created = graph.post(f"/{entity_set}", json=request)
    assert created.status_code == 201, created.text
    assert shape_problems(example(f"{prefix}-create.response-201.json"), created.json()) == []
    assert fits(type_name, created.json()) == []
    got = graph.get(f"/{entity_set}/{created.json()['id']}")
    assert got.status_code == 200, got.text
    assert shape_problems(example(f"{prefix}-get.response-200.json"), got.json()) == []
    assert fits(type_name, got.json()) == []
    listed = graph.get(f"/{entity_set}").json()
    assert shape_problems(example(f"{prefix}-list.response-200.json"), listed) == []
    assert all(fits(type_name, s) == [] for s in listed["value"])


def test_list_every_kind(graph: httpx.Client, lab: Emulator) -> None:
    new_session(graph, lab, "sharepoint-browse", "sharePointBrowseSessions")
    listed = graph.get("/browseSessions").json()
    # Both kinds in one list: each documented item against an answered one of its kind.
    for documented in example("browse-list.response-200.json")["value"]:
        same_kind = [s for s in listed["value"] if s["@odata.type"] == documented["@odata.type"]]
        assert shape_problems(documented, same_kind[0]) == []
    assert all(fits("browseSessionBase", s) == [] for s in listed["value"])


@pytest.mark.parametrize(
    "path",
    [
        f"/oneDriveForBusinessBrowseSessions/{DOCUMENTED_SESSION}",
        f"/browseSessions/{DOCUMENTED_SESSION}",
    ],
)
def test_browse_a_onedrive(graph: httpx.Client, path: str) -> None:
    top = graph.post(f"{path}/browse", json=example("browse-top.request.json"))
    assert top.status_code == 200, top.text
    assert shape_problems(example("browse-top.response-200.json"), top.json()) == []
    fits_browse_answer(top.json())
    request = example("browse.request.json")
    assert (
        schema.problems(
            schema.request_validator("/browseSessions/{browseSessionBase-id}/browse", "POST"),
            request,
        )
        == []
    )
    # The documented request names the documented site's key, as it is.
    below = graph.post(f"{path}/browse", json=request)
    assert below.status_code == 200, below.text
    assert shape_problems(example("browse.response-200.json"), below.json()) == []
    fits_browse_answer(below.json())
    assert_next_page(graph, path, below.json(), "browse-nextlink.response-200.json")


def test_browse_a_site(graph: httpx.Client, lab: Emulator) -> None:
    entity_set = "sharePointBrowseSessions"
    path = f"/{entity_set}/{new_session(graph, lab, 'sharepoint-browse', entity_set)}"
    # The page's example 1 sends no body at all.
    top = graph.post(f"{path}/browse")
    assert top.status_code == 200, top.text
    assert shape_problems(example("sharepoint-browse-top.response-200.json"), top.json()) == []
    fits_browse_answer(top.json())
    below = graph.post(f"{path}/browse", json=example("sharepoint-browse.request.json"))
    assert below.status_code == 200, below.text
    assert shape_problems(example("sharepoint-browse.response-200.json"), below.json()) == []
    fits_browse_answer(below.json())
    assert_next_page(graph, path, below.json(), "sharepoint-browse-nextlink.response-200.json")


def assert_next_page(graph: httpx.Client, path: str, libraries: dict[str, Any], name: str) -> None:
    """Follow a folder's @odata.nextLink (Photos has more items than a page)."""
    documents = next(i for i in libraries["value"] if i["name"] == "Documents")
    folders = graph.post(
        f"{path}/browse",
        json={
            "browseLocationItemKey": documents["itemKey"],
            "browseResourceType": "documentLibrary",
        },
    ).json()
    photos = next(i for i in folders["value"] if i["name"] == "Photos")
    first = graph.post(
        f"{path}/browse",
        json={"browseLocationItemKey": photos["itemKey"], "browseResourceType": "folder"},
    ).json()
    following = graph.get(first["@odata.nextLink"])
    assert following.status_code == 200, following.text
    assert shape_problems(example(name), following.json()) == []
    fits_browse_answer(following.json())


@pytest.mark.parametrize(
    ("prefix", "entity_set", "type_name", "artifacts", "listed_name", "patch_empty"),
    [
        # The OneDrive update adds an item and removes it again: sent to an empty draft.
        pytest.param(
            "",
            "oneDriveForBusinessRestoreSessions",
            "oneDriveForBusinessRestoreSession",
            "granularDriveRestoreArtifacts",
            "list-granular-drive-restore-artifacts.response-200.json",
            True,
            id="onedrive",
        ),
        # The SharePoint one removes an item the documented create added.
        pytest.param(
            "sharepoint-",
            "sharePointRestoreSessions",
            "sharePointRestoreSession",
            "granularSiteRestoreArtifacts",
            "sharepoint-list-granular-site-restore-artifacts.response-200.json",
            False,
            id="sharepoint",
        ),
    ],
)
def test_granular_restore(
    graph: httpx.Client,
    prefix: str,
    entity_set: str,
    type_name: str,
    artifacts: str,
    listed_name: str,
    patch_empty: bool,
) -> None:
    request = example(f"{prefix}create-granular.request.json")
    assert fits(type_name, request) == []
    created = graph.post(f"/{entity_set}", json=request)
    assert created.status_code == 201, created.text
    session = created.json()
    if prefix:
        documented = example(f"{prefix}create-granular.response-201.json")
        assert shape_problems(documented, session) == []
    assert fits(type_name, session) == []
    assert session["restoreSessionArtifactCount"]["total"] == 2
    path = f"/{entity_set}/{session['id']}"
    listed = graph.get(f"{path}/{artifacts}")
    assert listed.status_code == 200, listed.text
    assert shape_problems(example(listed_name), listed.json()) == []
    item_type = artifacts.removesuffix("s")
    assert all(fits(item_type, a) == [] for a in listed.json()["value"])
    update = example(f"{prefix}update-granular.request.json")
    if patch_empty:
        path = f"/{entity_set}/{graph.post(f'/{entity_set}', content=b'').json()['id']}"
    changed = graph.patch(path, json=update)
    assert changed.status_code == 200, changed.text
    documented_delta = example(f"{prefix}update-granular.response-200.json")[f"{artifacts}@delta"]
    answered = changed.json()[f"{artifacts}@delta"]
    assert len(answered) == len(documented_delta) == 2
    for documented_item, item in zip(documented_delta, answered, strict=True):
        assert shape_problems(documented_item, item) == []
    assert fits(item_type, answered[0]) == []
    assert answered[1]["@removed"] == {"reason": "changed"}


def test_every_documented_file_is_held_to_a_contract() -> None:
    documented = {p.name for p in EXAMPLES.glob("*.json") if is_granular_file(p.name)}
    assert documented == CONTRACTED


CONTRACTED = {
    "browse-onedrive-create.request.json",
    "browse-onedrive-create.response-201.json",
    "browse-onedrive-get.response-200.json",
    "browse-onedrive-list.response-200.json",
    "browse-list.response-200.json",
    "browse-top.request.json",
    "browse-top.response-200.json",
    "browse.request.json",
    "browse.response-200.json",
    "browse-nextlink.response-200.json",
    "sharepoint-browse-create.request.json",
    "sharepoint-browse-create.response-201.json",
    "sharepoint-browse-get.response-200.json",
    "sharepoint-browse-list.response-200.json",
    "sharepoint-browse-top.response-200.json",
    "sharepoint-browse.request.json",
    "sharepoint-browse.response-200.json",
    "sharepoint-browse-nextlink.response-200.json",
    "create-granular.request.json",
    "update-granular.request.json",
    "update-granular.response-200.json",
    "list-granular-drive-restore-artifacts.response-200.json",
    "sharepoint-create-granular.request.json",
    "sharepoint-create-granular.response-201.json",
    "sharepoint-update-granular.request.json",
    "sharepoint-update-granular.response-200.json",
    "sharepoint-list-granular-site-restore-artifacts.response-200.json",
}
