"""Every documented Graph answer in tests/contract/graph-examples, converted as the gateway
converts it (restore/convert.py, restore/browse_convert.py): each property Graph sends
with a value lands in the message, at the same place, under the same (JSON) name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from conftest import EXAMPLES, example
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore_gateway.restore import browse_convert, bulk_convert, convert, session_convert

# What Graph writes for "not known yet": the gateway leaves the field unset.
UNSET = (None, "", 0, False, [], {}, "0001-01-01T00:00:00Z")
# Where documented answers stray from Graph's schema, the name the message holds it by:
# an identity's id written as `identity`, granular mailbox artifacts under a singular key.
RENAMED = {
    "identity": "id",
    "granularMailboxRestoreArtifact": "granularMailboxRestoreArtifacts",
}


def converted_paths(graph: Any, message: Any, path: str = "") -> list[str]:
    """The property paths of `graph` (a Graph JSON object) not found in `message` (a
    message as JSON)."""
    lost = []
    for key, value in graph.items():
        if key.startswith("@") or "@odata." in key or value in UNSET:
            continue
        name = RENAMED.get(key, key)
        if name not in message:
            lost.append(f"{path}{key}")
            continue
        held = message[name]
        if isinstance(value, list) and isinstance(held, dict):
            # A list where the schema has one (a documented bulk item's `error`): the first.
            value = value[0]
        if isinstance(value, dict):
            lost += converted_paths(value, held, f"{path}{key}.")
        elif isinstance(value, list) and isinstance(value[0], dict):
            if len(held) != len(value):
                lost.append(f"{path}{key} (count)")
            for index, (one, kept) in enumerate(zip(value, held, strict=False)):
                lost += converted_paths(one, kept, f"{path}{key}[{index}].")
    return lost


def items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects a body documents: a collection's or a PATCH answer's items, or the
    body itself."""
    for key, value in body.items():
        if (key == "value" or key.endswith("@delta")) and isinstance(value, list):
            return value
    return [body]


def session(value: Any) -> Message:
    return session_convert.restore_session_from_graph(value)


def delta(artifact_type: type[Any], value: Any) -> Message:
    return session_convert.delta_item_from_graph(artifact_type, value)[0]


def granular_delta(artifact_type: type[Any], value: Any) -> Message:
    return browse_convert.delta_item_from_graph(artifact_type, value)[0]


def bulk(request_type: type[Any], value: Any) -> Message:
    return bulk_convert.bulk_request_from_graph(request_type, value, "session-1")


def search(value: Any) -> Message:
    """One search answer as restore/service.py reads it (it merges several the same way)."""
    return service_pb.SearchRestorePointsResponse(
        search_results=bulk_convert.search_results_from_graph(value),
        no_result_protection_unit_ids=convert.strings_from_graph(
            value.get("noResultProtectionUnitIds")
        ),
        search_response_id=value.get("searchResponseId", ""),
    )


CONVERTERS: dict[str, Callable[[Any], Message]] = {
    "search-restore-points.response-200.json": search,
    "exchange-search-artifact-query.response-200.json": search,
    "browse-list.response-200.json": partial(
        browse_convert.browse_session_from_graph, restore_point_id="rp-1"
    ),
    "create.response-201.json": session,
    "activate.response-200.json": session,
    "get-restore-session.response-200.json": session,
    "list-restore-sessions.response-200.json": session,
    "sharepoint-create.response-201.json": session,
    "sharepoint-create-granular.response-201.json": session,
    "exchange-create.response-201.json": session,
    "exchange-create-granular.response-201.json": session,
    "list-drive-restore-artifacts.response-200.json": partial(
        session_convert.artifact_from_graph, pb.DriveRestoreArtifact
    ),
    "sharepoint-list-site-restore-artifacts.response-200.json": partial(
        session_convert.artifact_from_graph, pb.SiteRestoreArtifact
    ),
    "exchange-list-mailbox-restore-artifacts.response-200.json": partial(
        session_convert.artifact_from_graph, pb.MailboxRestoreArtifact
    ),
    "list-granular-drive-restore-artifacts.response-200.json": partial(
        browse_convert.granular_artifact_from_graph, pb.GranularDriveRestoreArtifact
    ),
    "sharepoint-list-granular-site-restore-artifacts.response-200.json": partial(
        browse_convert.granular_artifact_from_graph, pb.GranularSiteRestoreArtifact
    ),
    "update.response-200.json": partial(delta, pb.DriveRestoreArtifact),
    "sharepoint-update.response-200.json": partial(delta, pb.SiteRestoreArtifact),
    "exchange-update.response-200.json": partial(delta, pb.MailboxRestoreArtifact),
    "update-granular.response-200.json": partial(granular_delta, pb.GranularDriveRestoreArtifact),
    "sharepoint-update-granular.response-200.json": partial(
        granular_delta, pb.GranularSiteRestoreArtifact
    ),
    "bulk-addition.response-201.json": partial(bulk, pb.DriveRestoreArtifactsBulkAdditionRequest),
    "bulk-addition.list-item-with-errors.json": partial(
        bulk, pb.DriveRestoreArtifactsBulkAdditionRequest
    ),
    "sharepoint-bulk-addition.response-201.json": partial(
        bulk, pb.SiteRestoreArtifactsBulkAdditionRequest
    ),
    "sharepoint-list-bulk-additions.response-200.json": partial(
        bulk, pb.SiteRestoreArtifactsBulkAdditionRequest
    ),
    "sharepoint-get-bulk-addition.response-200.json": partial(
        bulk, pb.SiteRestoreArtifactsBulkAdditionRequest
    ),
    "exchange-bulk-addition.response-201.json": partial(
        bulk, pb.MailboxRestoreArtifactsBulkAdditionRequest
    ),
    "exchange-list-bulk-additions.response-200.json": partial(
        bulk, pb.MailboxRestoreArtifactsBulkAdditionRequest
    ),
    "exchange-get-bulk-addition.response-200.json": partial(
        bulk, pb.MailboxRestoreArtifactsBulkAdditionRequest
    ),
    "browse-onedrive-create.response-201.json": partial(
        browse_convert.browse_session_from_graph, restore_point_id="rp-1"
    ),
    "browse-onedrive-get.response-200.json": partial(
        browse_convert.browse_session_from_graph, restore_point_id="rp-1"
    ),
    "browse-onedrive-list.response-200.json": partial(
        browse_convert.browse_session_from_graph, restore_point_id="rp-1"
    ),
    "sharepoint-browse-create.response-201.json": partial(
        browse_convert.browse_session_from_graph, restore_point_id="rp-1"
    ),
    "sharepoint-browse-get.response-200.json": partial(
        browse_convert.browse_session_from_graph, restore_point_id="rp-1"
    ),
    "sharepoint-browse-list.response-200.json": partial(
        browse_convert.browse_session_from_graph, restore_point_id="rp-1"
    ),
    "browse.response-200.json": browse_convert.browse_item_from_graph,
    "browse-top.response-200.json": browse_convert.browse_item_from_graph,
    "browse-nextlink.response-200.json": browse_convert.browse_item_from_graph,
    "sharepoint-browse.response-200.json": browse_convert.browse_item_from_graph,
    "sharepoint-browse-top.response-200.json": browse_convert.browse_item_from_graph,
    "sharepoint-browse-nextlink.response-200.json": browse_convert.browse_item_from_graph,
}


@pytest.mark.parametrize("name", sorted(CONVERTERS))
def test_every_property_of_a_documented_answer_lands_in_the_message(name: str) -> None:
    convert_one = CONVERTERS[name]
    documented = items(example(name))
    assert documented
    for graph in documented:
        lost = converted_paths(graph, MessageToDict(convert_one(graph)))
        assert lost == []


def test_every_documented_answer_is_converted_here() -> None:
    """A new answer in graph-examples is added to CONVERTERS (or said to need none)."""
    requests_and_others = {
        path.name
        for path in EXAMPLES.glob("*.json")
        if ".request." in path.name
        or path.name.endswith("protection-units.response-200.json")
        or path.name in {"service-root.response-200.json", "error-429.json"}
    }
    answers = {path.name for path in EXAMPLES.glob("*.json")} - requests_and_others
    assert answers == set(CONVERTERS)


# Graph's evolvable enums: a member added after this gateway was built.
ENUM_PROPERTIES = ("status", "destinationType", "restoreJobType", "type")


def with_new_members(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: "aMemberGraphAddsLater"
            if key in ENUM_PROPERTIES and isinstance(v, str)
            else with_new_members(v)
            for key, v in value.items()
        }
    if isinstance(value, list):
        return [with_new_members(v) for v in value]
    return value


def enum_values(message: Any) -> list[str]:
    """The values of the message's enum properties named in ENUM_PROPERTIES, at any depth."""
    found = []
    if isinstance(message, dict):
        for key, value in message.items():
            if key in ENUM_PROPERTIES and isinstance(value, str):
                found.append(value)
            else:
                found += enum_values(value)
    elif isinstance(message, list):
        for value in message:
            found += enum_values(value)
    return found


@pytest.mark.parametrize("name", sorted(CONVERTERS))
def test_a_documented_answer_with_new_enum_members_still_converts(name: str) -> None:
    for graph in items(example(name)):
        changed = with_new_members(graph)
        if changed == graph:
            continue
        held = MessageToDict(CONVERTERS[name](changed))
        values = enum_values(held)
        assert values, "the new members were dropped, not kept as unknownFutureValue"
        assert all(value.endswith("_UNKNOWN_FUTURE_VALUE") for value in values), values
