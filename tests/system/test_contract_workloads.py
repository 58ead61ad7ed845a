"""Contract tests from Microsoft's documented SharePoint and Exchange bodies
(tests/contract/graph-examples/sharepoint-*, exchange-*): the emulator answers each
documented request in the documented shape, and the gateway, given each documented
answer verbatim, turns it into the right RPC answer."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from graph_emulator import schema
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from processes import Emulator
from test_contract import EXAMPLES, answer_with, example, is_granular_file, shape_problems
from test_workloads import EXCHANGE, SHAREPOINT, Kind, period

# Documented but undeclared in Graph's schema, or seen only by delegated callers (every
# caller of the emulator is an app): not expected in the emulator's answers.
NOT_IN_APP_ANSWERS = frozenset({"restoreSessionId", "email", "displayName", "createdDateTime"})


@pytest.fixture(scope="module")
def graph(emulator: Emulator) -> Any:
    with emulator.graph_client() as client:
        yield client


def without(body: Any, keys: frozenset[str]) -> Any:
    if isinstance(body, dict):
        return {k: without(v, keys) for k, v in body.items() if k not in keys}
    if isinstance(body, list):
        return [without(v, keys) for v in body]
    return body


def collection(kind: Kind) -> str:
    """Graph's name of a workload's artifacts: siteRestoreArtifacts, mailboxRestoreArtifacts."""
    return f"{kind.noun.lower()}RestoreArtifacts"


def empty(graph: httpx.Client, entity_set: str) -> str:
    return str(graph.post(f"/{entity_set}", content=b"").json()["id"])


WORKLOADS = [
    pytest.param(SHAREPOINT, "sharepoint", "sharePointRestoreSession", id="sharepoint"),
    pytest.param(EXCHANGE, "exchange", "exchangeRestoreSession", id="exchange"),
]


@pytest.mark.parametrize(("kind", "prefix", "type_name"), WORKLOADS)
def test_create(graph: httpx.Client, kind: Kind, prefix: str, type_name: str) -> None:
    request = example(f"{prefix}-create.request.json")
    assert schema.problems(schema.validator(type_name), request) == []
    answer = graph.post(f"/{kind.entity_set}", json=request)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert shape_problems(example(f"{prefix}-create.response-201.json"), body) == []
    assert schema.problems(schema.validator(type_name), body) == []


@pytest.mark.parametrize(("kind", "prefix", "type_name"), WORKLOADS)
def test_update(graph: httpx.Client, kind: Kind, prefix: str, type_name: str) -> None:
    request = example(f"{prefix}-update.request.json")
    delta_key = f"{collection(kind)}@delta"
    answer = graph.patch(f"/{kind.entity_set}/{empty(graph, kind.entity_set)}", json=request)
    assert answer.status_code == 200, answer.text
    items = answer.json()[delta_key]
    documented = example(f"{prefix}-update.response-200.json")[delta_key]
    added = [i for i in items if "@Core.DataModificationException" not in i]
    failed = [i for i in items if "@Core.DataModificationException" in i]
    assert len(added) == 4 and len(failed) == 3
    assert shape_problems(documented[0], added[0]) == []
    assert shape_problems(documented[-1], failed[0]) == []


@pytest.mark.parametrize(
    ("kind", "prefix", "bulk_type"),
    [
        (SHAREPOINT, "sharepoint", "siteRestoreArtifactsBulkAdditionRequest"),
        (EXCHANGE, "exchange", "mailboxRestoreArtifactsBulkAdditionRequest"),
    ],
)
def test_bulk_addition(graph: httpx.Client, kind: Kind, prefix: str, bulk_type: str) -> None:
    request = example(f"{prefix}-bulk-addition.request.json")
    assert schema.problems(schema.validator(bulk_type), request) == []
    session_id = empty(graph, kind.entity_set)
    bulk = f"/{kind.entity_set}/{session_id}/{bulk_type}s"
    created = graph.post(bulk, json=request)
    assert created.status_code == 201, created.text
    body = created.json()
    documented = without(example(f"{prefix}-bulk-addition.response-201.json"), NOT_IN_APP_ANSWERS)
    assert shape_problems(documented, body) == []
    assert schema.problems(schema.validator(bulk_type), body) == []
    got = graph.get(f"{bulk}/{body['id']}")
    documented_get = example(f"{prefix}-get-bulk-addition.response-200.json")
    # The SharePoint page answers a single GET with a collection: Graph's schema (one
    # entity) decides what the emulator sends.
    documented_get = documented_get.get("value", [documented_get])[0]
    assert shape_problems(without(documented_get, NOT_IN_APP_ANSWERS), got.json()) == []
    listed = graph.get(bulk).json()
    # The Exchange page types the collection itself; the SharePoint one sends
    # createdBy "" (both documented quirks, read by the gateway, not copied).
    quirks = frozenset({"@odata.type", "createdBy", "lastModifiedBy"})
    documented_list = without(
        example(f"{prefix}-list-bulk-additions.response-200.json"), NOT_IN_APP_ANSWERS | quirks
    )
    assert shape_problems(documented_list, listed) == []
    # Every site or mailbox the documented request names was found and picked a point.
    session = graph.get(f"/restoreSessions/{session_id}").json()
    assert session["restoreSessionArtifactCount"]["total"] == 3


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (SHAREPOINT, "sharepoint-list-site-restore-artifacts.response-200.json"),
        (EXCHANGE, "exchange-list-mailbox-restore-artifacts.response-200.json"),
    ],
)
def test_list_restore_artifacts(graph: httpx.Client, kind: Kind, name: str) -> None:
    artifacts = [
        {"restorePoint": {"id": point}, "destinationType": "new"} for point in kind.points("1", "2")
    ]
    created = graph.post(f"/{kind.entity_set}", json={collection(kind): artifacts}).json()
    listed = graph.get(f"/{kind.entity_set}/{created['id']}/{collection(kind)}")
    assert listed.status_code == 200, listed.text
    assert shape_problems(example(name), listed.json()) == []


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/siteProtectionUnits", "sharepoint-list-site-protection-units.response-200.json"),
        (
            "/protectionUnits/microsoft.graph.mailboxProtectionUnit",
            "exchange-list-mailbox-protection-units.response-200.json",
        ),
    ],
)
def test_list_protection_units(graph: httpx.Client, path: str, name: str) -> None:
    listed = graph.get(path)
    assert listed.status_code == 200, listed.text
    documented = without(example(name), NOT_IN_APP_ANSWERS - {"createdDateTime"})
    assert shape_problems(documented, listed.json()) == []


def test_granular_mailbox_restore(graph: httpx.Client) -> None:
    search = example("exchange-search-artifact-query.request.json")
    found = graph.post("/restorePoints/search", json=search)
    assert found.status_code == 200, found.text
    # The documented mailbox search answers with a site unit (its siteId): a quirk.
    documented = without(
        example("exchange-search-artifact-query.response-200.json"), frozenset({"siteId"})
    )
    assert shape_problems(documented, found.json()) == []
    request = example("exchange-create-granular.request.json")
    assert schema.problems(schema.validator("exchangeRestoreSession"), request) == []
    created = graph.post("/exchangeRestoreSessions", json=request)
    assert created.status_code == 201, created.text
    # The documented answer lists the artifacts under an undeclared singular key.
    documented = without(
        example("exchange-create-granular.response-201.json"),
        frozenset({"granularMailboxRestoreArtifact"}),
    )
    assert shape_problems(documented, created.json()) == []
    # A search id Graph never gave is refused (not documented: the stricter reading).
    request["granularMailboxRestoreArtifacts"][0]["searchResponseId"] = "never-searched"
    assert graph.post("/exchangeRestoreSessions", json=request).status_code == 400


def test_only_documented_session_reads_are_served(graph: httpx.Client) -> None:
    """GET and DELETE on the SharePoint and Exchange entity sets are schema-only: the
    documented reads are restoreSessions[/{id}]."""
    for entity_set in ("sharePointRestoreSessions", "exchangeRestoreSessions"):
        session_id = empty(graph, entity_set)
        for refused in (
            graph.get(f"/{entity_set}"),
            graph.get(f"/{entity_set}/{session_id}"),
            graph.delete(f"/{entity_set}/{session_id}"),
        ):
            assert refused.status_code in (400, 405), refused.text
            assert refused.json()["error"]["code"]
        assert graph.get(f"/restoreSessions/{session_id}").status_code == 200


# --- The gateway turns each documented answer into the right RPC answer ----------------


def test_the_gateway_reads_documented_sessions(
    emulator: Emulator, sharepoint: Any, exchange: Any
) -> None:
    answer_with(
        emulator, "POST", "/sharePointRestoreSessions", "sharepoint-create.response-201.json", 201
    )
    session = SHAREPOINT.create(sharepoint, *SHAREPOINT.points("doc"))
    assert session.id == "61633878-8321-4950-bfaf-ed285bdd1461"
    # The documented create answer is an activating session (a copy of activate's).
    assert session.status == pb.RESTORE_SESSION_STATUS_ACTIVATING
    assert session.restore_session_artifact_count.in_progress == 2
    assert session.created_date_time.ToJsonString() == "2015-06-19T12:01:03.450Z"
    answer_with(
        emulator,
        "POST",
        "/exchangeRestoreSessions",
        "exchange-create-granular.response-201.json",
        201,
    )
    granular = exchange.CreateRestoreSession(
        service_pb.CreateRestoreSessionRequest(
            restore_session=pb.RestoreSession(
                granular_mailbox_restore_artifacts=[
                    pb.GranularMailboxRestoreArtifact(
                        restore_point=pb.RestorePoint(id="rp-mailbox-doc"),
                        destination_type=pb.DESTINATION_TYPE_IN_PLACE,
                        search_response_id="M2UyZDAwMDAwMDMxMzkzYTMyNj",
                    )
                ]
            ),
            request_id=str(uuid.uuid4()),
        ),
        timeout=10,
    )
    [artifact] = granular.granular_mailbox_restore_artifacts
    assert artifact.search_response_id == "M2UyZDAwMDAwMDMxMzkzYTMyNj"
    assert artifact.status == pb.ARTIFACT_RESTORE_STATUS_ADDED
    assert granular.created_by.user.display_name == "ABC"


@pytest.mark.parametrize(("kind", "prefix"), [(SHAREPOINT, "sharepoint"), (EXCHANGE, "exchange")])
def test_the_gateway_reads_a_documented_update(
    emulator: Emulator, kind: Kind, prefix: str, sharepoint: Any, exchange: Any
) -> None:
    service = sharepoint if kind is SHAREPOINT else exchange
    session = kind.create(service, *kind.points("update"))
    answer_with(
        emulator, "PATCH", f"/{kind.entity_set}/{session.id}", f"{prefix}-update.response-200.json"
    )
    added = kind.add(service, session.id, *kind.points("1", "2", "3", "4"))
    documented = next(iter(example(f"{prefix}-update.response-200.json").values()))
    echoed = [i["id"] for i in documented if "@Core.DataModificationException" not in i]
    assert [a.id for a in added.added] == echoed
    assert [f.id for f in added.failed] == []  # the documented failure is a removal


@pytest.mark.parametrize(
    ("kind", "name", "check"),
    [
        (
            SHAREPOINT,
            "sharepoint-list-site-restore-artifacts.response-200.json",
            lambda a: (
                (a.restored_site_name, a.restored_site_web_url)
                == (
                    "testsite101",
                    "https://a830edad9050849odb10gb.sharepoint.com/sites/testsite101R3",
                )
            ),
        ),
        (
            EXCHANGE,
            "exchange-list-mailbox-restore-artifacts.response-200.json",
            lambda a: (a.restored_folder_name, a.restored_item_count) == ("testmailbox101", 5),
        ),
    ],
)
def test_the_gateway_reads_documented_artifacts(
    emulator: Emulator, kind: Kind, name: str, check: Any, sharepoint: Any, exchange: Any
) -> None:
    service = sharepoint if kind is SHAREPOINT else exchange
    session = kind.create(service, *kind.points("listed"))
    answer_with(emulator, "GET", f"/{kind.entity_set}/{session.id}/{collection(kind)}", name)
    page = kind.rpc(service, "List{noun}RestoreArtifacts")(
        kind.message("List{noun}RestoreArtifactsRequest", restore_session_id=session.id),
        timeout=10,
    )
    first, second = getattr(page, kind.field)
    assert first.status == pb.ARTIFACT_RESTORE_STATUS_SUCCEEDED
    assert (first.destination_type, second.destination_type) == (
        pb.DESTINATION_TYPE_IN_PLACE,
        pb.DESTINATION_TYPE_NEW,
    )
    assert check(first)
    assert first.completion_date_time.ToJsonString() == "2023-12-04T13:22:12.720969100Z"
    assert page.next_page_token


@pytest.mark.parametrize(
    ("kind", "prefix", "names"),
    [
        (
            SHAREPOINT,
            "sharepoint",
            {"site_web_urls": ["https://contoso.sharepoint.com/sites/site00003"]},
        ),
        (EXCHANGE, "exchange", {"mailboxes": ["user00003@contoso.com"]}),
    ],
)
def test_the_gateway_reads_documented_bulk_requests(
    emulator: Emulator,
    kind: Kind,
    prefix: str,
    names: dict[str, list[str]],
    sharepoint: Any,
    exchange: Any,
) -> None:
    service = sharepoint if kind is SHAREPOINT else exchange
    made = kind.rpc(service, "Create{noun}RestoreArtifactsBulkAdditionRequest")(
        kind.message(
            "Create{noun}RestoreArtifactsBulkAdditionRequestRequest",
            bulk_addition_request=kind.bulk(
                destination_type=pb.DESTINATION_TYPE_NEW, protection_time_period=period(), **names
            ),
            request_id=str(uuid.uuid4()),
        ),
        timeout=30,
    )
    path = f"/{kind.entity_set}/{made.restore_session_id}/{collection(kind)}BulkAdditionRequests"
    answer_with(emulator, "GET", path, f"{prefix}-list-bulk-additions.response-200.json")
    [listed] = kind.rpc(service, "List{noun}RestoreArtifactsBulkAdditionRequests")(
        kind.message(
            "List{noun}RestoreArtifactsBulkAdditionRequestsRequest",
            restore_session_id=made.restore_session_id,
        ),
        timeout=10,
    ).bulk_addition_requests
    documented = example(f"{prefix}-list-bulk-additions.response-200.json")["value"][0]
    assert (listed.id, listed.display_name) == (documented["id"], documented["displayName"])
    assert listed.restore_session_id == made.restore_session_id
    answer_with(
        emulator, "GET", f"{path}/{made.id}", f"{prefix}-get-bulk-addition.response-200.json"
    )
    got = kind.rpc(service, "Get{noun}RestoreArtifactsBulkAdditionRequest")(
        kind.message(
            "Get{noun}RestoreArtifactsBulkAdditionRequestRequest",
            restore_session_id=made.restore_session_id,
            bulk_addition_request_id=made.id,
        ),
        timeout=10,
    )
    documented = example(f"{prefix}-get-bulk-addition.response-200.json")
    if "value" in documented:  # the SharePoint page answers a single GET with a collection
        documented = documented["value"][0]
    assert got.id == documented["id"]
    assert (
        got.protection_time_period.start_date_time.ToJsonString()
        == (documented["protectionTimePeriod"]["startDateTime"])
    )


def test_the_gateway_reads_a_documented_message_search(emulator: Emulator, exchange: Any) -> None:
    answer_with(
        emulator,
        "POST",
        "/restorePoints/search",
        "exchange-search-artifact-query.response-200.json",
    )
    found = exchange.SearchRestorePoints(
        service_pb.SearchRestorePointsRequest(
            protection_unit_ids=["23014d8c-71fe-4d00-a01a-31850bc5b42a"],
            protection_time_period=period(),
            artifact_query=pb.ArtifactQuery(
                artifact_type=pb.RESTORABLE_ARTIFACT_MESSAGE,
                query_expression="(Subject -like '*Check email*')",
            ),
        ),
        timeout=10,
    )
    assert found.search_response_id == "M2UyZDAwMDAwMDMxMzkzYTMyNj"
    [result] = found.search_results
    assert result.artifact_hit_count == 26
    # The documented answer names a site unit, by its site id.
    assert result.restore_point.protection_unit.site_id == "344d9337-d8f0-456e-92cd-00a3abdd2093"
    assert result.restore_point.tags == [pb.RESTORE_POINT_TAG_FAST_RESTORE]


CONTRACTED = {
    "sharepoint-create.request.json",
    "sharepoint-create.response-201.json",
    "sharepoint-update.request.json",
    "sharepoint-update.response-200.json",
    "sharepoint-bulk-addition.request.json",
    "sharepoint-bulk-addition.response-201.json",
    "sharepoint-get-bulk-addition.response-200.json",
    "sharepoint-list-bulk-additions.response-200.json",
    "sharepoint-list-site-restore-artifacts.response-200.json",
    "sharepoint-list-site-protection-units.response-200.json",
    "exchange-create.request.json",
    "exchange-create.response-201.json",
    "exchange-create-granular.request.json",
    "exchange-create-granular.response-201.json",
    "exchange-update.request.json",
    "exchange-update.response-200.json",
    "exchange-bulk-addition.request.json",
    "exchange-bulk-addition.response-201.json",
    "exchange-get-bulk-addition.response-200.json",
    "exchange-list-bulk-additions.response-200.json",
    "exchange-list-mailbox-restore-artifacts.response-200.json",
    "exchange-list-mailbox-protection-units.response-200.json",
    "exchange-search-artifact-query.request.json",
    "exchange-search-artifact-query.response-200.json",
}


def test_every_documented_file_is_held_to_a_contract() -> None:
    """Granular SharePoint files: test_contract_browse."""
    documented = {
        p.name
        for p in EXAMPLES.glob("*.json")
        if p.name.startswith(("sharepoint-", "exchange-")) and not is_granular_file(p.name)
    }
    assert documented == CONTRACTED


@pytest.mark.parametrize("entity_set", ["sharePointRestoreSessions", "exchangeRestoreSessions"])
def test_a_session_type_spelt_otherwise_is_refused(graph: httpx.Client, entity_set: str) -> None:
    """The documented requests spell @odata.type as the schema does; answers may spell it
    `sharepointRestoreSession`, but a request is held to the schema's case."""
    type_name = entity_set.removesuffix("s")
    assert (
        graph.post(
            f"/{entity_set}", json={"@odata.type": f"#microsoft.graph.{type_name}"}
        ).status_code
        == 201
    )
    refused = graph.post(
        f"/{entity_set}", json={"@odata.type": f"#microsoft.graph.{type_name.lower()}"}
    )
    assert refused.status_code == 400, refused.text
