"""What the gateway sends Graph, against every documented request body in
tests/contract/graph-examples: the same request, read into messages and converted back
(restore/convert.py, restore/browse_convert.py), is Microsoft's body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import EXAMPLES, example
from graphrestore.v1 import browse_session_pb2 as browse_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore_gateway.restore import browse_convert, bulk_convert, convert, session_convert


def documented(body: Any) -> Any:
    """A documented body without what the gateway leaves out on purpose: `@odata.type`
    (the entity set says it) and empty name lists."""
    if isinstance(body, dict):
        return {k: documented(v) for k, v in body.items() if k != "@odata.type" and v != []}
    if isinstance(body, list):
        return [documented(v) for v in body]
    return body


def artifacts(artifact_type: type[Any]) -> Callable[[dict[str, Any]], Any]:
    def sent(item: dict[str, Any]) -> Any:
        return session_convert.new_artifact_to_graph(
            session_convert.artifact_from_graph(artifact_type, item)
        )

    return sent


def granular(artifact_type: type[Any]) -> Callable[[dict[str, Any]], Any]:
    def sent(item: dict[str, Any]) -> Any:
        read = browse_convert.granular_artifact_from_graph(artifact_type, item)
        return browse_convert.new_granular_artifact_to_graph(read)

    return sent


# Request files whose body is a list of artifacts under one key: how each item is sent.
ARTIFACT_LISTS = {
    "create.request.json": artifacts(pb.DriveRestoreArtifact),
    "update.request.json": artifacts(pb.DriveRestoreArtifact),
    "sharepoint-create.request.json": artifacts(pb.SiteRestoreArtifact),
    "sharepoint-update.request.json": artifacts(pb.SiteRestoreArtifact),
    "exchange-create.request.json": artifacts(pb.MailboxRestoreArtifact),
    "exchange-update.request.json": artifacts(pb.MailboxRestoreArtifact),
    "exchange-create-granular.request.json": artifacts(pb.GranularMailboxRestoreArtifact),
    "create-granular.request.json": granular(pb.GranularDriveRestoreArtifact),
    "sharepoint-create-granular.request.json": granular(pb.GranularSiteRestoreArtifact),
    "sharepoint-update-granular.request.json": granular(pb.GranularSiteRestoreArtifact),
}


@pytest.mark.parametrize("name", sorted(ARTIFACT_LISTS))
def test_artifacts_are_sent_as_documented(name: str) -> None:
    body = documented(example(name))
    [(_, items)] = body.items()
    added = [item for item in items if "@removed" not in item]
    assert added
    assert [ARTIFACT_LISTS[name](item) for item in added] == added


def test_removals_are_sent_as_documented() -> None:
    """Graph's form of a removal, as SessionFiller.remove_artifacts writes it."""
    [(_, items)] = example("sharepoint-update-granular.request.json").items()
    removals = [item for item in items if "@removed" in item]
    assert removals
    assert all(item == {"@removed": {"reason": "changed"}, "id": item["id"]} for item in removals)


def test_the_onedrive_granular_patch_example_names_items_by_item_key() -> None:
    """The one documented body the gateway does not send as shown: it names an item by
    `id`, as every other granular body (and the schema) does (docs/graph.md)."""
    [(_, items)] = example("update-granular.request.json").items()
    added = [item for item in items if "@removed" not in item]
    sent = [
        browse_convert.new_granular_artifact_to_graph(
            pb.GranularDriveRestoreArtifact(
                browse_session_id=item["browseSessionId"], id=item["itemKey"]
            )
        )
        for item in added
    ]
    assert sent == [{"browseSessionId": i["browseSessionId"], "id": i["itemKey"]} for i in added]


@pytest.mark.parametrize(
    ("name", "request_type"),
    [
        ("bulk-addition.request.json", pb.DriveRestoreArtifactsBulkAdditionRequest),
        ("sharepoint-bulk-addition.request.json", pb.SiteRestoreArtifactsBulkAdditionRequest),
        ("exchange-bulk-addition.request.json", pb.MailboxRestoreArtifactsBulkAdditionRequest),
    ],
)
def test_bulk_requests_are_sent_as_documented(name: str, request_type: type[Any]) -> None:
    body = example(name)
    read = bulk_convert.bulk_request_from_graph(request_type, body, "")
    assert bulk_convert.bulk_request_to_graph(read) == documented(body)


@pytest.mark.parametrize(
    "name",
    [
        "search-restore-points.request.json",
        pytest.param(
            "exchange-search-artifact-query.request.json",
            marks=pytest.mark.xfail(
                strict=True,
                reason="Graph documents a message search with a start and no end; the "
                "gateway asks for both (validation.py) and always sends both",
            ),
        ),
    ],
)
def test_searches_are_sent_as_documented(name: str) -> None:
    body = example(name)
    period = {"endDateTime": None, **body["protectionTimePeriod"]}
    query = body.get("artifactQuery")
    sent = bulk_convert.search_request_to_graph(
        body["protectionUnitIds"],
        pb.TimePeriod(
            start_date_time=convert.timestamp_from_graph(period["startDateTime"]),
            end_date_time=convert.timestamp_from_graph(period["endDateTime"]),
        ),
        convert.enum_from_graph(pb.RestorePointPreference, body.get("restorePointPreference")),
        [convert.enum_from_graph(pb.RestorePointTag, t) for t in body["tags"].split(",")]
        if "tags" in body
        else [],
        pb.ArtifactQuery(
            artifact_type=convert.enum_from_graph(pb.RestorableArtifact, query["artifactType"]),
            query_expression=query["queryExpression"],
        )
        if query
        else None,
    )
    assert sent == documented(body)


@pytest.mark.parametrize(
    "name", ["browse.request.json", "sharepoint-browse.request.json", "browse-top.request.json"]
)
def test_browse_requests_are_sent_as_documented(name: str) -> None:
    body = example(name)
    request = service_pb.BrowseRequest(
        browse_location_item_key=body.get("browseLocationItemKey", ""),
        browse_resource_type=convert.enum_from_graph(
            browse_pb.BrowsableResourceType, body.get("browseResourceType")
        ),
    )
    assert browse_convert.browse_request_to_graph(request) == body


def test_every_documented_request_is_checked_here() -> None:
    checked = {
        *ARTIFACT_LISTS,
        "update-granular.request.json",
        "bulk-addition.request.json",
        "sharepoint-bulk-addition.request.json",
        "exchange-bulk-addition.request.json",
        "search-restore-points.request.json",
        "exchange-search-artifact-query.request.json",
        "browse.request.json",
        "sharepoint-browse.request.json",
        "browse-top.request.json",
        # A browse session's create body is the restore point id alone, built where the
        # session is created (restore/browsing.py); its system tests check it.
        "browse-onedrive-create.request.json",
        "sharepoint-browse-create.request.json",
    }
    assert {path.name for path in EXAMPLES.glob("*.request.json")} == checked
