"""Protobuf messages <-> Graph JSON (camelCase): the values every answer shares (enums,
times, identities, errors, restore points, collections). Lenient on input: one odd field
from Graph (unknown enum member, broken time, wrong type) never fails a whole answer.
Sessions and their artifacts: restore/session_convert.py; bulk requests and searches:
restore/bulk_convert.py; browsing: restore/browse_convert.py."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.timestamp_pb2 import Timestamp
from graphrestore.v1 import restore_session_pb2 as pb

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


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object as Graph sent it; {} for anything else (the same for as_str, as_int)."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: Any) -> int:
    return (
        value
        if isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
        else 0
    )


def identity_set_from_graph(value: Any) -> pb.IdentitySet | None:
    data = as_dict(value)
    if not data:
        return None
    identities = {}
    for role in ("application", "user", "device"):
        identity = as_dict(data.get(role))
        if identity:
            # Some documented answers name the id `identity`.
            identity_id = as_str(identity.get("id")) or as_str(identity.get("identity"))
            identities[role] = pb.Identity(
                id=identity_id, display_name=as_str(identity.get("displayName"))
            )
    return pb.IdentitySet(**identities)


def public_error_from_graph(value: Any) -> pb.PublicError | None:
    # One documented answer sends a list of errors where the schema has one: the first.
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, dict)), None)
    data = as_dict(value)
    if not data:
        return None
    details = [
        pb.PublicErrorDetail(
            code=as_str(d.get("code")),
            message=as_str(d.get("message")),
            target=as_str(d.get("target")),
        )
        for d in (data.get("details") or [])
        if isinstance(d, dict)
    ]
    inner = as_dict(data.get("innerError"))
    return pb.PublicError(
        code=as_str(data.get("code")),
        message=as_str(data.get("message")),
        target=as_str(data.get("target")),
        details=details,
        inner_error=pb.PublicInnerError(
            code=as_str(inner.get("code")),
            message=as_str(inner.get("message")),
            target=as_str(inner.get("target")),
        )
        if inner
        else None,
    )


def _flags_from_graph(enum: EnumTypeWrapper, value: Any) -> list[Any]:
    """Graph's flags enums (restorePointTags, protectionSource): several members in one
    comma-separated string."""
    return [
        enum_from_graph(enum, flag.strip()) for flag in as_str(value).split(",") if flag.strip()
    ]


def tags_from_graph(value: Any) -> list[Any]:
    return _flags_from_graph(pb.RestorePointTag, value)


def tracked_fields(data: dict[str, Any]) -> dict[str, Any]:
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
    data = as_dict(value)
    if not data:
        return None
    unit = as_dict(data.get("protectionUnit"))
    return pb.RestorePoint(
        id=as_str(data.get("id")),
        protection_date_time=timestamp_from_graph(data.get("protectionDateTime")),
        expiration_date_time=timestamp_from_graph(data.get("expirationDateTime")),
        tags=tags_from_graph(data.get("tags")),
        protection_unit=protection_unit_from_graph(unit) if unit else None,
    )


def protection_unit_from_graph(value: Any) -> pb.ProtectionUnit:
    """A drive, site or mailbox protection unit (protectionUnitBase and its kinds)."""
    unit = as_dict(value)
    return pb.ProtectionUnit(
        id=as_str(unit.get("id")),
        policy_id=as_str(unit.get("policyId")),
        status=as_str(unit.get("status")),
        directory_object_id=as_str(unit.get("directoryObjectId")),
        email=as_str(unit.get("email")),
        site_id=as_str(unit.get("siteId")),
        site_name=as_str(unit.get("siteName")),
        site_web_url=as_str(unit.get("siteWebUrl")),
        display_name=as_str(unit.get("displayName")),
        protection_sources=_flags_from_graph(pb.ProtectionSource, unit.get("protectionSources")),
        offboard_requested_date_time=timestamp_from_graph(unit.get("offboardRequestedDateTime")),
        **tracked_fields(unit),
    )


def time_to_graph(stamp: Timestamp) -> str:
    """Timestamp -> Graph's DateTimeOffset, keeping up to the 7 fractional digits Graph
    takes (100 ns)."""
    whole = stamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{stamp.nanos // 100:07d}".rstrip("0")
    return f"{whole}.{fraction}Z" if fraction else f"{whole}Z"


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
        return as_dict(values[0])
    return body


def strings_from_graph(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
