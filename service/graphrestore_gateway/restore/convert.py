"""Protobuf messages <-> Graph JSON (camelCase). Lenient on input: one odd field from
Graph (unknown enum member, broken time, wrong type) never fails a whole answer."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.restore.workloads import BULK_NAMES, BulkName

log = logging.getLogger(__name__)
T = TypeVar("T")

_GRAPH_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@functools.cache
def _enum_prefix(enum: EnumTypeWrapper) -> str:
    """DestinationType -> "DESTINATION_TYPE_"."""
    return _CAMEL_HUMP.sub("_", enum.DESCRIPTOR.name).upper() + "_"


@functools.cache
def enum_to_graph(enum: EnumTypeWrapper, number: int) -> str:
    """DESTINATION_TYPE_IN_PLACE -> "inPlace" (worked out once per member, not per call)."""
    words = enum.Name(number).removeprefix(_enum_prefix(enum)).lower().split("_")
    return words[0] + "".join(word.title() for word in words[1:])


@functools.cache
def _numbers_by_graph_name(enum: EnumTypeWrapper) -> dict[str, int]:
    """Graph's member names, lower-cased: documented answers also write them capitalised
    ("CompletedWithErrors")."""
    return {enum_to_graph(enum, number).lower(): number for number in enum.values() if number != 0}


def enum_from_graph(enum: EnumTypeWrapper, value: Any) -> Any:
    """ "inPlace" -> DESTINATION_TYPE_IN_PLACE (Graph's names, in any case); any other string ->
    *_UNKNOWN_FUTURE_VALUE, as Graph's evolvable enums require. Typed Any: the number
    goes straight into a message field typed as that enum."""
    if value is None or value == "":
        return 0
    number = _numbers_by_graph_name(enum).get(str(value).lower())
    if number is None:
        log.warning(
            "unknown Graph enum member",
            extra={"fields": {"enum": enum.DESCRIPTOR.name, "value": value}},
        )
        return int(enum.Value(_enum_prefix(enum) + "UNKNOWN_FUTURE_VALUE"))
    return number


def timestamp_from_graph(value: Any) -> Timestamp | None:
    """Graph's DateTimeOffset (up to 7 fractional digits) -> Timestamp; None if absent or broken."""
    if not isinstance(value, str) or not value:
        return None
    match = _GRAPH_TIME.match(value)
    if match is None:
        log.warning("malformed Graph time", extra={"fields": {"value": value}})
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if year == "0001":
        return None  # Graph's way of saying "not set" (0001-01-01T00:00:00Z)
    try:
        moment = datetime.fromisoformat(
            f"{year}-{month}-{day}T{hour}:{minute}:{second}{'+00:00' if zone == 'Z' else zone}"
        )
    except ValueError:
        log.warning("malformed Graph time", extra={"fields": {"value": value}})
        return None
    nanos = int((fraction or "0").ljust(9, "0"))
    return Timestamp(seconds=int(moment.astimezone(UTC).timestamp()), nanos=nanos)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return (
        value
        if isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
        else 0
    )


def identity_set_from_graph(value: Any) -> pb.IdentitySet | None:
    data = _dict(value)
    if not data:
        return None
    identities = {}
    for role in ("application", "user", "device"):
        identity = _dict(data.get(role))
        if identity:
            # Some documented answers name the id `identity`.
            identity_id = _str(identity.get("id")) or _str(identity.get("identity"))
            identities[role] = pb.Identity(
                id=identity_id, display_name=_str(identity.get("displayName"))
            )
    return pb.IdentitySet(**identities)


def public_error_from_graph(value: Any) -> pb.PublicError | None:
    # One documented answer sends a list of errors where the schema has one: the first.
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, dict)), None)
    data = _dict(value)
    if not data:
        return None
    details = [
        pb.PublicErrorDetail(
            code=_str(d.get("code")), message=_str(d.get("message")), target=_str(d.get("target"))
        )
        for d in (data.get("details") or [])
        if isinstance(d, dict)
    ]
    inner = _dict(data.get("innerError"))
    return pb.PublicError(
        code=_str(data.get("code")),
        message=_str(data.get("message")),
        target=_str(data.get("target")),
        details=details,
        inner_error=pb.PublicInnerError(
            code=_str(inner.get("code")),
            message=_str(inner.get("message")),
            target=_str(inner.get("target")),
        )
        if inner
        else None,
    )


def _flags_from_graph(enum: EnumTypeWrapper, value: Any) -> list[Any]:
    """Graph's flags enums (restorePointTags, protectionSource): several members in one
    comma-separated string."""
    return [enum_from_graph(enum, flag.strip()) for flag in _str(value).split(",") if flag.strip()]


def _tags_from_graph(value: Any) -> list[Any]:
    return _flags_from_graph(pb.RestorePointTag, value)


def _tracked_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Who made and last changed it, when, and its error: the properties Graph's session,
    protection unit and bulk request bases share (message fields of the same names)."""
    return {
        "created_by": identity_set_from_graph(data.get("createdBy")),
        "created_date_time": timestamp_from_graph(data.get("createdDateTime")),
        "last_modified_by": identity_set_from_graph(data.get("lastModifiedBy")),
        "last_modified_date_time": timestamp_from_graph(data.get("lastModifiedDateTime")),
        "error": public_error_from_graph(data.get("error")),
    }


def restore_point_from_graph(value: Any) -> pb.RestorePoint | None:
    data = _dict(value)
    if not data:
        return None
    unit = _dict(data.get("protectionUnit"))
    return pb.RestorePoint(
        id=_str(data.get("id")),
        protection_date_time=timestamp_from_graph(data.get("protectionDateTime")),
        expiration_date_time=timestamp_from_graph(data.get("expirationDateTime")),
        tags=_tags_from_graph(data.get("tags")),
        protection_unit=protection_unit_from_graph(unit) if unit else None,
    )


def protection_unit_from_graph(value: Any) -> pb.ProtectionUnit:
    """A drive, site or mailbox protection unit (protectionUnitBase and its kinds)."""
    unit = _dict(value)
    return pb.ProtectionUnit(
        id=_str(unit.get("id")),
        policy_id=_str(unit.get("policyId")),
        status=_str(unit.get("status")),
        directory_object_id=_str(unit.get("directoryObjectId")),
        email=_str(unit.get("email")),
        site_id=_str(unit.get("siteId")),
        site_name=_str(unit.get("siteName")),
        site_web_url=_str(unit.get("siteWebUrl")),
        display_name=_str(unit.get("displayName")),
        protection_sources=_flags_from_graph(pb.ProtectionSource, unit.get("protectionSources")),
        offboard_requested_date_time=timestamp_from_graph(unit.get("offboardRequestedDateTime")),
        **_tracked_fields(unit),
    )


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
    data = _dict(value)
    artifact = artifact_type(
        id=_str(data.get("id")),
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
            setattr(artifact, name, _str(data.get(key)))
    for key, name in _ARTIFACT_INTS.items():
        if name in fields:
            setattr(artifact, name, _int(data.get(key)))
    return artifact


def _artifacts_from_graph(artifact_type: type[Artifact], value: Any) -> list[Artifact]:
    if not isinstance(value, list):
        return []
    return [artifact_from_graph(artifact_type, a) for a in value if isinstance(a, dict)]


def restore_session_from_graph(value: Any) -> pb.RestoreSession:
    """A session of any workload, with whatever artifacts Graph listed in it."""
    data = _dict(value)
    counts = _dict(data.get("restoreSessionArtifactCount"))
    # The documented granular answer lists them under an undeclared singular key.
    granular = data.get(
        "granularMailboxRestoreArtifacts", data.get("granularMailboxRestoreArtifact")
    )
    return pb.RestoreSession(
        id=_str(data.get("id")),
        status=enum_from_graph(pb.RestoreSessionStatus, data.get("status")),
        restore_job_type=enum_from_graph(pb.RestoreJobType, data.get("restoreJobType")),
        restore_session_artifact_count=pb.RestoreSessionArtifactCount(
            total=_int(counts.get("total")),
            completed=_int(counts.get("completed")),
            in_progress=_int(counts.get("inProgress")),
            failed=_int(counts.get("failed")),
        )
        if counts
        else None,
        **_tracked_fields(data),
        completed_date_time=timestamp_from_graph(data.get("completedDateTime")),
        drive_restore_artifacts=_artifacts_from_graph(
            pb.DriveRestoreArtifact, data.get("driveRestoreArtifacts")
        ),
        site_restore_artifacts=_artifacts_from_graph(
            pb.SiteRestoreArtifact, data.get("siteRestoreArtifacts")
        ),
        mailbox_restore_artifacts=_artifacts_from_graph(
            pb.MailboxRestoreArtifact, data.get("mailboxRestoreArtifacts")
        ),
        granular_mailbox_restore_artifacts=_artifacts_from_graph(
            pb.GranularMailboxRestoreArtifact, granular
        ),
    )


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
    data = _dict(value)
    artifact = artifact_from_graph(artifact_type, data)
    refusal = _dict(data.get("@Core.DataModificationException"))
    if not refusal:
        return artifact, REMOVED if "@removed" in data else ADDED
    info = _dict(refusal.get("info"))
    artifact.error.CopyFrom(
        pb.PublicError(code=_str(info.get("code")), message=_str(info.get("message")))
    )
    removal = refusal.get("failedOperation") == "remove" or "@removed" in data
    return artifact, REMOVE_FAILED if removal else ADD_FAILED


def time_to_graph(stamp: Timestamp) -> str:
    """Timestamp -> Graph's DateTimeOffset, keeping up to the 7 fractional digits Graph
    takes (100 ns)."""
    whole = stamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{stamp.nanos // 100:07d}".rstrip("0")
    return f"{whole}.{fraction}Z" if fraction else f"{whole}Z"


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
    data = _dict(value)
    period = _dict(data.get("protectionTimePeriod"))
    bulk = request_type(
        id=_str(data.get("id")),
        display_name=_str(data.get("displayName")),
        status=enum_from_graph(pb.RestoreArtifactsBulkRequestStatus, data.get("status")),
        destination_type=enum_from_graph(pb.DestinationType, data.get("destinationType")),
        protection_time_period=pb.TimePeriod(
            start_date_time=timestamp_from_graph(period.get("startDateTime")),
            end_date_time=timestamp_from_graph(period.get("endDateTime")),
        ),
        restore_point_preference=enum_from_graph(
            pb.RestorePointPreference, data.get("restorePointPreference")
        ),
        tags=_tags_from_graph(data.get("tags")),
        protection_unit_ids=strings_from_graph(data.get("protectionUnitIds")),
        **_tracked_fields(data),
        restore_session_id=restore_session_id,
    )
    for name in _bulk_names(request_type):
        getattr(bulk, name.field).extend(strings_from_graph(data.get(name.graph_key)))
    return bulk


def search_results_from_graph(value: Any) -> list[service_pb.RestorePointSearchResult]:
    results = _dict(value).get("searchResults")
    return [
        service_pb.RestorePointSearchResult(
            restore_point=restore_point_from_graph(_dict(r).get("restorePoint")),
            artifact_hit_count=_int(_dict(r).get("artifactHitCount")),
        )
        for r in (results if isinstance(results, list) else [])
    ]


def collection(body: dict[str, Any], convert_item: Callable[[Any], T]) -> list[T]:
    """The items of a Graph collection answer (`value`), each converted; odd items skipped."""
    values = body.get("value")
    if not isinstance(values, list):
        return []
    return [convert_item(v) for v in values if isinstance(v, dict)]


def single_from_graph(body: dict[str, Any]) -> dict[str, Any]:
    """An entity Graph was asked for: a documented SharePoint answer wraps the one bulk
    request a GET names in a collection (`value`), which is read as that entity."""
    values = body.get("value")
    if "id" not in body and isinstance(values, list) and len(values) == 1:
        return _dict(values[0])
    return body


def strings_from_graph(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
