"""Bulk addition requests and restore point searches, the two requests that pick
restore points by time period and preference: protobuf messages <-> Graph JSON, as
lenient on input as restore/convert.py."""

from __future__ import annotations

from typing import Any, TypeVar

from google.protobuf.message import Message
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.restore.convert import (
    as_dict,
    as_int,
    as_str,
    enum_from_graph,
    enum_to_graph,
    restore_point_from_graph,
    strings_from_graph,
    tags_from_graph,
    time_to_graph,
    timestamp_from_graph,
    tracked_fields,
)
from graphrestore_gateway.restore.workloads import BULK_NAMES, BulkName


def _time_period_to_graph(period: pb.TimePeriod) -> dict[str, str]:
    return {
        "startDateTime": time_to_graph(period.start_date_time),
        "endDateTime": time_to_graph(period.end_date_time),
    }


def _choice_to_graph(preference: int, tags: list[int]) -> dict[str, str]:
    """restorePointPreference and tags (comma-separated flags), when given."""
    choice = {}
    if preference:
        choice["restorePointPreference"] = enum_to_graph(pb.RestorePointPreference, preference)
    if tags:
        choice["tags"] = ",".join(enum_to_graph(pb.RestorePointTag, tag) for tag in tags)
    return choice


def search_request_to_graph(
    unit_ids: list[str],
    period: pb.TimePeriod,
    preference: int,
    tags: list[int],
    query: pb.ArtifactQuery | None = None,
) -> dict[str, Any]:
    body = {
        "protectionUnitIds": unit_ids,
        "protectionTimePeriod": _time_period_to_graph(period),
        **_choice_to_graph(preference, tags),
    }
    if query is not None:
        body["artifactQuery"] = {
            "artifactType": enum_to_graph(pb.RestorableArtifact, query.artifact_type),
            "queryExpression": query.query_expression,
        }
    return body


BulkRequest = TypeVar(
    "BulkRequest",
    pb.DriveRestoreArtifactsBulkAdditionRequest,
    pb.SiteRestoreArtifactsBulkAdditionRequest,
    pb.MailboxRestoreArtifactsBulkAdditionRequest,
)


def _bulk_names(request_type: type[Message]) -> list[BulkName]:
    """The lists this type of bulk request names what it restores by."""
    fields = request_type.DESCRIPTOR.fields_by_name
    return [name for name in BULK_NAMES.values() if name.field in fields]


def bulk_request_to_graph(
    request: pb.DriveRestoreArtifactsBulkAdditionRequest
    | pb.SiteRestoreArtifactsBulkAdditionRequest
    | pb.MailboxRestoreArtifactsBulkAdditionRequest,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "destinationType": enum_to_graph(pb.DestinationType, request.destination_type),
        "protectionTimePeriod": _time_period_to_graph(request.protection_time_period),
        **_choice_to_graph(request.restore_point_preference, list(request.tags)),
    }
    if request.display_name:
        body["displayName"] = request.display_name
    # Never protectionUnitIds: documented as not implemented. Drive units are sent as
    # the directory object ids of their owners (restore/drive_units.py).
    for name in _bulk_names(type(request)):
        names = getattr(request, name.field)
        if names:
            body[name.graph_key] = list(names)
    return body


def bulk_request_from_graph(
    request_type: type[BulkRequest], value: Any, restore_session_id: str
) -> BulkRequest:
    data = as_dict(value)
    period = as_dict(data.get("protectionTimePeriod"))
    bulk = request_type(
        id=as_str(data.get("id")),
        display_name=as_str(data.get("displayName")),
        status=enum_from_graph(pb.RestoreArtifactsBulkRequestStatus, data.get("status")),
        destination_type=enum_from_graph(pb.DestinationType, data.get("destinationType")),
        protection_time_period=pb.TimePeriod(
            start_date_time=timestamp_from_graph(period.get("startDateTime")),
            end_date_time=timestamp_from_graph(period.get("endDateTime")),
        ),
        restore_point_preference=enum_from_graph(
            pb.RestorePointPreference, data.get("restorePointPreference")
        ),
        tags=tags_from_graph(data.get("tags")),
        protection_unit_ids=strings_from_graph(data.get("protectionUnitIds")),
        **tracked_fields(data),
        restore_session_id=restore_session_id,
    )
    for name in _bulk_names(request_type):
        getattr(bulk, name.field).extend(strings_from_graph(data.get(name.graph_key)))
    return bulk


def search_results_from_graph(value: Any) -> list[service_pb.RestorePointSearchResult]:
    results = as_dict(value).get("searchResults")
    return [
        service_pb.RestorePointSearchResult(
            restore_point=restore_point_from_graph(as_dict(r).get("restorePoint")),
            artifact_hit_count=as_int(as_dict(r).get("artifactHitCount")),
        )
        for r in (results if isinstance(results, list) else [])
    ]
