"""Restore sessions and their artifacts: protobuf messages <-> Graph JSON, as lenient on
input as restore/convert.py."""

from __future__ import annotations

from typing import Any, TypeVar

from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.restore.convert import (
    as_dict,
    as_int,
    as_str,
    enum_from_graph,
    enum_to_graph,
    public_error_from_graph,
    restore_point_from_graph,
    timestamp_from_graph,
    tracked_fields,
)
from graphrestore_gateway.restore.workloads import WORKLOADS

# The properties of Graph's artifact types beyond restoreArtifactBase, and the message
# fields that hold them (each artifact message has those of its Graph type).
_ARTIFACT_STRINGS = {
    "restoredSiteId": "restored_site_id",
    "restoredSiteName": "restored_site_name",
    "restoredSiteWebUrl": "restored_site_web_url",
    "restoredFolderId": "restored_folder_id",
    "restoredFolderName": "restored_folder_name",
    "searchResponseId": "search_response_id",
}
_ARTIFACT_INTS = {"restoredItemCount": "restored_item_count", "artifactCount": "artifact_count"}
Artifact = TypeVar(
    "Artifact",
    pb.DriveRestoreArtifact,
    pb.SiteRestoreArtifact,
    pb.MailboxRestoreArtifact,
    pb.GranularMailboxRestoreArtifact,
)


def artifact_from_graph(artifact_type: type[Artifact], value: Any) -> Artifact:
    """Any of Graph's restore artifacts as its message (they share restoreArtifactBase)."""
    data = as_dict(value)
    artifact = artifact_type(
        id=as_str(data.get("id")),
        restore_point=restore_point_from_graph(data.get("restorePoint")),
        destination_type=enum_from_graph(pb.DestinationType, data.get("destinationType")),
        status=enum_from_graph(pb.ArtifactRestoreStatus, data.get("status")),
        start_date_time=timestamp_from_graph(data.get("startDateTime")),
        completion_date_time=timestamp_from_graph(data.get("completionDateTime")),
        error=public_error_from_graph(data.get("error")),
        # Not in the schema, but in every documented create and update answer.
        created_date_time=timestamp_from_graph(data.get("createdDateTime")),
    )
    fields = artifact_type.DESCRIPTOR.fields_by_name
    for key, name in _ARTIFACT_STRINGS.items():
        if name in fields:
            setattr(artifact, name, as_str(data.get(key)))
    for key, name in _ARTIFACT_INTS.items():
        if name in fields:
            setattr(artifact, name, as_int(data.get(key)))
    return artifact


def _artifacts_from_graph(artifact_type: type[Artifact], value: Any) -> list[Artifact]:
    if not isinstance(value, list):
        return []
    return [artifact_from_graph(artifact_type, a) for a in value if isinstance(a, dict)]


def restore_session_from_graph(value: Any) -> pb.RestoreSession:
    """A session of any workload, with whatever artifacts Graph listed in it."""
    data = as_dict(value)
    counts = as_dict(data.get("restoreSessionArtifactCount"))
    # The documented granular answer lists them under an undeclared singular key.
    granular = data.get(
        "granularMailboxRestoreArtifacts", data.get("granularMailboxRestoreArtifact")
    )
    session = pb.RestoreSession(
        id=as_str(data.get("id")),
        status=enum_from_graph(pb.RestoreSessionStatus, data.get("status")),
        restore_job_type=enum_from_graph(pb.RestoreJobType, data.get("restoreJobType")),
        restore_session_artifact_count=pb.RestoreSessionArtifactCount(
            total=as_int(counts.get("total")),
            completed=as_int(counts.get("completed")),
            in_progress=as_int(counts.get("inProgress")),
            failed=as_int(counts.get("failed")),
        )
        if counts
        else None,
        **tracked_fields(data),
        completed_date_time=timestamp_from_graph(data.get("completedDateTime")),
        granular_mailbox_restore_artifacts=_artifacts_from_graph(
            pb.GranularMailboxRestoreArtifact, granular
        ),
    )
    for workload in WORKLOADS.values():
        listed = data.get(workload.sessions.artifacts)
        getattr(session, workload.artifact_field).extend(
            _artifacts_from_graph(workload.artifact_type, listed)
        )
    return session


def new_artifact_to_graph(
    artifact: pb.DriveRestoreArtifact
    | pb.SiteRestoreArtifact
    | pb.MailboxRestoreArtifact
    | pb.GranularMailboxRestoreArtifact,
) -> dict[str, Any]:
    """The documented shape of an artifact to add: restore point id and destination (and
    the search that found a granular artifact's messages)."""
    body = {
        "restorePoint": {"id": artifact.restore_point.id},
        "destinationType": enum_to_graph(pb.DestinationType, artifact.destination_type),
    }
    if isinstance(artifact, pb.GranularMailboxRestoreArtifact):
        body["searchResponseId"] = artifact.search_response_id
    return body


ADDED, REMOVED, ADD_FAILED, REMOVE_FAILED = "added", "removed", "add failed", "remove failed"


def delta_item_from_graph(artifact_type: type[Artifact], value: Any) -> tuple[Artifact, str]:
    """One item of a PATCH answer: (artifact, what it reports). Graph echoes added
    artifacts, never successful removals; a refused item carries
    @Core.DataModificationException (failedOperation add or remove), which becomes the
    artifact's error."""
    data = as_dict(value)
    artifact = artifact_from_graph(artifact_type, data)
    refusal = as_dict(data.get("@Core.DataModificationException"))
    if not refusal:
        return artifact, REMOVED if "@removed" in data else ADDED
    info = as_dict(refusal.get("info"))
    artifact.error.CopyFrom(
        pb.PublicError(code=as_str(info.get("code")), message=as_str(info.get("message")))
    )
    removal = refusal.get("failedOperation") == "remove" or "@removed" in data
    return artifact, REMOVE_FAILED if removal else ADD_FAILED
