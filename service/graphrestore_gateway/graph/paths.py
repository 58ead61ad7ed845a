"""The one place Graph paths are built: every id becomes one percent-encoded segment."""

from __future__ import annotations

from urllib.parse import quote

SESSIONS = "oneDriveForBusinessRestoreSessions"
ALL_SESSIONS = "restoreSessions"
ARTIFACTS = "driveRestoreArtifacts"
BULK_REQUESTS = "driveRestoreArtifactsBulkAdditionRequests"
RESTORE_POINTS = "restorePoints"
DRIVE_UNITS = "driveProtectionUnits"


class UnsafeId(ValueError):
    """An id that cannot stand as one path segment (empty, or only dots)."""


def segment(value: str) -> str:
    """An id as one path segment: nothing in it can end the segment or climb out."""
    if not value or value.strip(".") == "":
        raise UnsafeId(f"{value[:128]!r} cannot be a path segment")
    return quote(value, safe="")


def path(*parts: str) -> str:
    """`/part/part...`: the fixed names as they are, ids through `segment` by the caller."""
    return "/" + "/".join(parts)


def session(session_id: str, *rest: str) -> str:
    return path(SESSIONS, segment(session_id), *rest)


def any_session(session_id: str, *rest: str) -> str:
    return path(ALL_SESSIONS, segment(session_id), *rest)


def bulk_request(session_id: str, bulk_id: str) -> str:
    return session(session_id, BULK_REQUESTS, segment(bulk_id))


def restore_point(restore_point_id: str) -> str:
    return path(RESTORE_POINTS, segment(restore_point_id))


def drive_unit(unit_id: str) -> str:
    return path(DRIVE_UNITS, segment(unit_id))
