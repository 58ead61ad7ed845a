"""The one place Graph paths are built: every id becomes one percent-encoded segment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit

ALL_SESSIONS = "restoreSessions"
RESTORE_POINTS = "restorePoints"
DRIVE_UNITS = "driveProtectionUnits"
SITE_UNITS = "siteProtectionUnits"


@dataclass(frozen=True)
class Sessions:
    """One workload's restore sessions in Graph: entity set, the collections of each
    session, and the @odata.type its sessions carry in restoreSessions."""

    entity_set: str
    artifacts: str
    bulk_requests: str
    odata_type: str
    # Whether a v1.0 page documents GET and list on the entity set itself (OneDrive);
    # otherwise the documented reads are restoreSessions[/{id}], told apart by type.
    reads_own_set: bool = False
    # Its browse sessions' entity set, and a granular session's items ("": none).
    browse_sessions: str = ""
    granular_artifacts: str = ""

    def session(self, session_id: str, *rest: str) -> str:
        return path(self.entity_set, segment(session_id), *rest)

    def browse_session(self, browse_session_id: str, *rest: str) -> str:
        return path(self.browse_sessions, segment(browse_session_id), *rest)

    def bulk_request(self, session_id: str, bulk_id: str) -> str:
        return self.session(session_id, self.bulk_requests, segment(bulk_id))

    def holds(self, body: dict[str, object]) -> bool:
        """Whether a session body is one of this workload's: types compared in any case
        (SharePoint's documented answers spell it sharepointRestoreSession)."""
        kind = body.get("@odata.type")
        return isinstance(kind, str) and kind.lower() == self.odata_type.lower()


ONEDRIVE = Sessions(
    "oneDriveForBusinessRestoreSessions",
    "driveRestoreArtifacts",
    "driveRestoreArtifactsBulkAdditionRequests",
    "#microsoft.graph.oneDriveForBusinessRestoreSession",
    reads_own_set=True,
    browse_sessions="oneDriveForBusinessBrowseSessions",
    granular_artifacts="granularDriveRestoreArtifacts",
)
SHAREPOINT = Sessions(
    "sharePointRestoreSessions",
    "siteRestoreArtifacts",
    "siteRestoreArtifactsBulkAdditionRequests",
    "#microsoft.graph.sharePointRestoreSession",
    browse_sessions="sharePointBrowseSessions",
    granular_artifacts="granularSiteRestoreArtifacts",
)
EXCHANGE = Sessions(
    "exchangeRestoreSessions",
    "mailboxRestoreArtifacts",
    "mailboxRestoreArtifactsBulkAdditionRequests",
    "#microsoft.graph.exchangeRestoreSession",
)


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


def next_link_query(next_link: str, collection_url: str) -> dict[str, str] | None:
    """The query options of Graph's @odata.nextLink, all of them as given, when the link
    pages `collection_url` (same scheme, host, port and path); None for any other link."""
    link, collection = urlsplit(next_link), urlsplit(collection_url)

    def where(url: SplitResult) -> tuple[str, str, str]:
        return url.scheme.lower(), url.netloc.lower(), unquote(url.path)

    same = where(link) == where(collection)
    return dict(parse_qsl(link.query, keep_blank_values=True)) if same else None


def any_session(session_id: str, *rest: str) -> str:
    return path(ALL_SESSIONS, segment(session_id), *rest)


def restore_point(restore_point_id: str) -> str:
    return path(RESTORE_POINTS, segment(restore_point_id))


def drive_unit(unit_id: str) -> str:
    return path(DRIVE_UNITS, segment(unit_id))


# A Graph path as a route: every id segment becomes {id}.
_KNOWN_SEGMENTS = frozenset(
    {
        "v1.0",
        "solutions",
        "backupRestore",
        *(
            name
            for sessions in (ONEDRIVE, SHAREPOINT, EXCHANGE)
            for name in (sessions.entity_set, sessions.artifacts, sessions.bulk_requests)
        ),
        ALL_SESSIONS,
        RESTORE_POINTS,
        DRIVE_UNITS,
        SITE_UNITS,
        "protectionUnit",
        "activate",
        "search",
    }
)
_SEGMENT = re.compile(r"[^/]+")


def graph_route(method: str, url_path: str) -> str:
    """`GET /oneDriveForBusinessRestoreSessions/{id}`: one label value per API route."""
    route = _SEGMENT.sub(lambda m: m[0] if m[0] in _KNOWN_SEGMENTS else "{id}", url_path)
    return f"{method} {route}"
