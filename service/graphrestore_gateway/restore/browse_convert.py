"""Browse sessions, browsed items and granular drive and site artifacts: protobuf
messages <-> Graph JSON, as lenient on input as restore/convert.py."""

from __future__ import annotations

from typing import Any, TypeVar

from graphrestore.v1 import browse_session_pb2 as browse_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.restore import session_convert
from graphrestore_gateway.restore.convert import (
    as_dict,
    as_str,
    enum_from_graph,
    enum_to_graph,
    public_error_from_graph,
    timestamp_from_graph,
)

GranularArtifact = TypeVar(
    "GranularArtifact", pb.GranularDriveRestoreArtifact, pb.GranularSiteRestoreArtifact
)


def _bytes(value: Any) -> int:
    """Graph's sizes: a number in a string ("584316"), or a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < 2**63 else 0
    text = as_str(value)
    return int(text) if text.isdigit() and len(text) < 19 else 0


def browse_session_from_graph(value: Any, restore_point_id: str) -> browse_pb.BrowseSession:
    """A browse session of either kind; `restore_point_id` from the gateway's record
    (Graph never echoes it)."""
    data = as_dict(value)
    return browse_pb.BrowseSession(
        id=as_str(data.get("id")),
        backup_size_in_bytes=_bytes(data.get("backupSizeInBytes")),
        created_date_time=timestamp_from_graph(data.get("createdDateTime")),
        expiration_date_time=timestamp_from_graph(data.get("expirationDateTime")),
        restore_point_date_time=timestamp_from_graph(data.get("restorePointDateTime")),
        restore_point_id=as_str(data.get("restorePointId")) or restore_point_id,
        status=enum_from_graph(browse_pb.BrowseSessionStatus, data.get("status")),
        error=public_error_from_graph(data.get("error")),
        directory_object_id=as_str(data.get("directoryObjectId")),
        site_id=as_str(data.get("siteId")),
    )


def browse_item_from_graph(value: Any) -> browse_pb.BrowseQueryResponseItem:
    data = as_dict(value)
    count = data.get("itemsCount")
    return browse_pb.BrowseQueryResponseItem(
        item_key=as_str(data.get("itemKey")),
        items_count=count if isinstance(count, int) and 0 <= count < 2**31 else 0,
        name=as_str(data.get("name")),
        size_in_bytes=_bytes(data.get("sizeInBytes")),
        type=enum_from_graph(browse_pb.BrowseQueryResponseItemType, data.get("type")),
        web_url=as_str(data.get("webUrl")),
    )


def browse_request_to_graph(request: service_pb.BrowseRequest) -> dict[str, Any]:
    """The browse action's body: {} for the top (validation keeps the quote out of the
    name filter)."""
    body: dict[str, Any] = {}
    if request.browse_location_item_key:
        body["browseLocationItemKey"] = request.browse_location_item_key
        body["browseResourceType"] = enum_to_graph(
            browse_pb.BrowsableResourceType, request.browse_resource_type
        )
    if request.name_contains:
        body["filter"] = f"(name -contains '{request.name_contains}')"
    if request.order_by:
        body["orderBy"] = enum_to_graph(browse_pb.BrowseQueryOrder, request.order_by)
    return body


def granular_artifact_from_graph(
    artifact_type: type[GranularArtifact], value: Any
) -> GranularArtifact:
    """A granularDriveRestoreArtifact or granularSiteRestoreArtifact ("" and
    0001-01-01T00:00:00Z, as Graph writes what is not known yet, stay unset)."""
    data = as_dict(value)
    artifact = artifact_type(
        id=as_str(data.get("id")),
        browse_session_id=as_str(data.get("browseSessionId")),
        status=enum_from_graph(pb.ArtifactRestoreStatus, data.get("status")),
        web_url=as_str(data.get("webUrl")),
        restored_item_key=as_str(data.get("restoredItemKey")),
        restored_item_path=as_str(data.get("restoredItemPath")),
        restored_item_web_url=as_str(data.get("restoredItemWebUrl")),
        restore_point_date_time=timestamp_from_graph(data.get("restorePointDateTime")),
        start_date_time=timestamp_from_graph(data.get("startDateTime")),
        completion_date_time=timestamp_from_graph(data.get("completionDateTime")),
    )
    if isinstance(artifact, pb.GranularDriveRestoreArtifact):
        artifact.directory_object_id = as_str(data.get("directoryObjectId"))
    else:
        artifact.site_id = as_str(data.get("siteId"))
    return artifact


def new_granular_artifact_to_graph(
    artifact: pb.GranularDriveRestoreArtifact | pb.GranularSiteRestoreArtifact,
) -> dict[str, Any]:
    """The documented shape of an item to restore: its browse session and item key (no
    destination: Graph restores granular items to a new folder)."""
    return {"browseSessionId": artifact.browse_session_id, "id": artifact.id}


def delta_item_from_graph(
    artifact_type: type[GranularArtifact], value: Any
) -> tuple[GranularArtifact, str]:
    """One item of a granular PATCH answer: (item, what it reports), as
    session_convert.delta_item_from_graph reads a standard one; Graph echoes granular
    removals."""
    data = as_dict(value)
    item = granular_artifact_from_graph(artifact_type, data)
    refusal = as_dict(data.get("@Core.DataModificationException"))
    if not refusal:
        return item, session_convert.REMOVED if "@removed" in data else session_convert.ADDED
    info = as_dict(refusal.get("info"))
    item.error.CopyFrom(
        pb.PublicError(code=as_str(info.get("code")), message=as_str(info.get("message")))
    )
    removal = refusal.get("failedOperation") == "remove" or "@removed" in data
    return item, session_convert.REMOVE_FAILED if removal else session_convert.ADD_FAILED
