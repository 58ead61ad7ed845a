"""Files and folders as they were: `restorectl ls` and `restorectl restore-items`.

A user's drive or a site is found as a protection unit (a site by the gateway's lookup of
its URL; a drive from `--units`, a CSV of `protection_unit_id` with `email` or
`site_url`, e.g. the emulator's protected-drives.csv: an app is never told a drive
unit's e-mail), then its latest fastRestore point at or before the time, a browse
session on it (waited for until Graph has created it) and a walk down each path by
browsing. Nothing is created but the browse session until every path is found; the
items then go into one granular session, 50 per call (Graph's limit per request)."""

from __future__ import annotations

import csv
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import grpc

from graphrestore import restore_flow
from graphrestore.channel import new_request_id
from graphrestore.restore_flow import RestoreInputError
from graphrestore.v1 import browse_session_pb2 as browse_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb

# Graph takes at most this many artifacts per request (graph-api-granular.md); so does
# the gateway's create and add of files and folders.
ITEMS_PER_CALL = 50
# Tries of one change while the gateway cannot be reached (1, 2, 4, 8 s apart).
SEND_ATTEMPTS = 5
T = TypeVar("T")
BROWSE_PATIENCE_S = 300.0
BROWSE_POLL_S = 1.0
LOCATIONS = {
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_SITE: browse_pb.BROWSABLE_RESOURCE_TYPE_SITE,
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_DOCUMENT_LIBRARY: (
        browse_pb.BROWSABLE_RESOURCE_TYPE_DOCUMENT_LIBRARY
    ),
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_FOLDER: browse_pb.BROWSABLE_RESOURCE_TYPE_FOLDER,
}
KINDS = {
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_SITE: "site",
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_DOCUMENT_LIBRARY: "library",
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_FOLDER: "folder",
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_FILE: "file",
}


def unit_named(
    stub: Any, user: str | None, site: str | None, units_csv: str | None, timeout: float
) -> str:
    """The protection unit of a user's drive or of a site: from the units CSV when one is
    given (it wins), else, for a site, the gateway's lookup by URL."""
    if units_csv:
        return unit_of(units_csv, "email" if user else "site_url", user or site or "")
    if user:
        raise RestoreInputError(
            f"{user}: the gateway cannot find a drive by its owner's e-mail (Graph gives "
            "drive units' email to delegated callers only, and the gateway is an app): give "
            "--units CSV (protection_unit_id,email; $GRAPHRESTORE_UNITS), or --drive-unit ID"
        )
    found = stub.FindSiteProtectionUnit(
        sharepoint_pb.FindSiteProtectionUnitRequest(site_web_url=site), timeout=timeout
    )
    units = [str(unit.id) for unit in found.protection_units]
    if len(units) != 1:
        raise RestoreInputError(
            f"{site}: Graph lists {len(units)} site protection units with that URL "
            f"({', '.join(units)}): name one with --site-unit"
        )
    return units[0]


def unit_of(units_csv: str, column: str, name: str) -> str:
    """The protection unit id of a user (column `email`) or site (`site_url`) in a CSV."""
    wanted = name.strip().rstrip("/").lower()
    with open(units_csv, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if "protection_unit_id" not in (reader.fieldnames or ()):
            raise RestoreInputError(f"{units_csv}: the header needs protection_unit_id")
        for row in reader:
            if (row.get(column) or "").strip().rstrip("/").lower() == wanted:
                return str(row["protection_unit_id"]).strip()
    raise RestoreInputError(f"{name}: not in {units_csv}")


def fast_point(stub: Any, unit_id: str, at: datetime, timeout: float) -> pb.RestorePoint:
    """The latest fastRestore point of the unit at or before `at` (only those can be
    browsed)."""
    found = stub.SearchRestorePoints(
        service_pb.SearchRestorePointsRequest(
            protection_unit_ids=[unit_id],
            protection_time_period=restore_flow.window(at),
            restore_point_preference=pb.RESTORE_POINT_PREFERENCE_LATEST,
            tags=[pb.RESTORE_POINT_TAG_FAST_RESTORE],
        ),
        timeout=timeout,
    )
    points: list[pb.RestorePoint] = [
        r.restore_point
        for r in found.search_results
        if r.restore_point.protection_date_time.ToDatetime().timestamp() <= at.timestamp()
    ]
    if not points:
        raise RestoreInputError(
            f"no fastRestore point in the {restore_flow.SEARCH_WINDOW.days} days up to "
            f"{at.isoformat()} for protection unit {unit_id}"
        )
    return max(points, key=lambda p: p.protection_date_time.ToDatetime())


def open_browse(stub: Any, point_id: str, timeout: float) -> browse_pb.BrowseSession:
    """A browse session on the point, once Graph has created it."""
    session = stub.CreateBrowseSession(
        service_pb.CreateBrowseSessionRequest(
            restore_point_id=point_id, request_id=str(uuid.uuid4())
        ),
        timeout=timeout,
    )
    give_up = time.monotonic() + BROWSE_PATIENCE_S
    request = service_pb.GetBrowseSessionRequest(browse_session_id=session.id)
    while session.status == browse_pb.BROWSE_SESSION_STATUS_CREATING:
        if time.monotonic() > give_up:
            raise RuntimeError(f"browse session {session.id} still creating; try again later")
        time.sleep(BROWSE_POLL_S)
        session = stub.GetBrowseSession(request, timeout=timeout)
    if session.status != browse_pb.BROWSE_SESSION_STATUS_CREATED:
        raise RuntimeError(
            f"browse session {session.id} "
            f"{browse_pb.BrowseSessionStatus.Name(session.status)}: {session.error.message}"
        )
    return session  # type: ignore[no-any-return]


def children(
    stub: Any,
    session_id: str,
    timeout: float,
    where: browse_pb.BrowseQueryResponseItem | None = None,
) -> Iterator[browse_pb.BrowseQueryResponseItem]:
    def fetch(token: str) -> tuple[list[browse_pb.BrowseQueryResponseItem], str]:
        request = service_pb.BrowseRequest(browse_session_id=session_id, page_token=token)
        if where is not None:
            request.browse_location_item_key = where.item_key
            request.browse_resource_type = LOCATIONS[where.type]
        page = stub.Browse(request, timeout=timeout)
        return list(page.items), page.next_page_token

    return restore_flow.every_page(fetch)


def resolve(
    stub: Any, session_id: str, path: str, timeout: float
) -> browse_pb.BrowseQueryResponseItem:
    """The item at `path` (/Library/folder/.../name) below the drive's or site's top."""
    return resolve_all(stub, session_id, [path], timeout)[0]


def resolve_all(
    stub: Any, session_id: str, paths: list[str], timeout: float
) -> list[browse_pb.BrowseQueryResponseItem]:
    """The item at each path, each location browsed once however many paths pass it (120
    photos of one folder: one listing of it, not 120)."""
    listed: dict[str, list[browse_pb.BrowseQueryResponseItem]] = {}

    def inside(where: browse_pb.BrowseQueryResponseItem | None) -> list[Any]:
        key = where.item_key if where is not None else ""
        if key not in listed:
            listed[key] = list(children(stub, session_id, timeout, where))
        return listed[key]

    tops = inside(None)
    if len(tops) != 1:
        raise RuntimeError(f"browse session {session_id}: {len(tops)} items at the top, not 1")
    found = []
    for path in paths:
        where, walked = tops[0], ""
        for name in [n for n in path.split("/") if n]:
            if where.type not in LOCATIONS:
                raise RestoreInputError(f"{path}: {walked} is a file, not a folder")
            walked += "/" + name
            named = [i for i in inside(where) if i.name == name]
            if not named:
                raise RestoreInputError(f"{path}: no {walked} at that time")
            where = named[0]
        found.append(where)
    return found


@dataclass
class Browsed:
    """A drive or site as it was: its restore point and a created browse session."""

    stub: Any
    is_site: bool
    point: pb.RestorePoint
    session: browse_pb.BrowseSession


def browse_unit(stub: Any, is_site: bool, unit_id: str, at: datetime, timeout: float) -> Browsed:
    point = fast_point(stub, unit_id, at, timeout)
    return Browsed(stub, is_site, point, open_browse(stub, point.id, timeout))


def kind(item: browse_pb.BrowseQueryResponseItem) -> str:
    return KINDS.get(item.type, "unknown")


def create_items_session(
    browsed: Browsed, items: list[browse_pb.BrowseQueryResponseItem], timeout: float
) -> pb.RestoreSession:
    """One granular restore session of exactly these items (always to a new folder):
    made with the first ITEMS_PER_CALL, the rest added ITEMS_PER_CALL at a time. Each call
    has its own request id, sent again on a retry, so each item is added once."""
    stub = browsed.stub
    first, *rest = chunks(items, ITEMS_PER_CALL)
    create = service_pb.CreateRestoreSessionRequest(request_id=new_request_id())
    _name(browsed, create.restore_session, first)
    created: pb.RestoreSession = sent_once(stub.CreateRestoreSession, create, timeout)
    for chunk in rest:
        if browsed.is_site:
            add: Any = sharepoint_pb.AddGranularSiteRestoreArtifactsRequest()
            rpc = stub.AddGranularSiteRestoreArtifacts
        else:
            add = service_pb.AddGranularDriveRestoreArtifactsRequest()
            rpc = stub.AddGranularDriveRestoreArtifacts
        add.restore_session_id, add.request_id = created.id, new_request_id()
        _name(browsed, add, chunk)
        answer = sent_once(rpc, add, timeout)
        if answer.failed:
            first = answer.failed[0]
            raise RuntimeError(
                f"draft session {created.id}: Graph did not add {len(answer.failed)} items, "
                f"the first {first.id}: {first.error.code} {first.error.message}"
            )
    return created


def _name(browsed: Browsed, holder: Any, items: list[browse_pb.BrowseQueryResponseItem]) -> None:
    """The items as granular artifacts of the message that holds them."""
    field = (
        "granular_site_restore_artifacts" if browsed.is_site else "granular_drive_restore_artifacts"
    )
    for item in items:
        getattr(holder, field).add(browse_session_id=browsed.session.id, id=item.item_key)


def chunks(values: list[T], size: int) -> list[list[T]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def sent_once(rpc: Callable[..., Any], request: Any, timeout: float) -> Any:
    """The answer of a change RPC, sent again with the same request (and request id) while
    the gateway is unreachable: it makes the change once, however often it is sent."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            return rpc(request, timeout=timeout)
        except grpc.RpcError as error:
            unavailable = (
                isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.UNAVAILABLE
            )
            if not unavailable or attempt == SEND_ATTEMPTS - 1:
                raise
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


def restored_items(browsed: Browsed, session_id: str, timeout: float) -> list[Any]:
    """The session's granular artifacts with where each went."""

    def fetch(token: str) -> tuple[list[Any], str]:
        if browsed.is_site:
            page = browsed.stub.ListGranularSiteRestoreArtifacts(
                sharepoint_pb.ListGranularSiteRestoreArtifactsRequest(
                    restore_session_id=session_id, page_token=token
                ),
                timeout=timeout,
            )
            return list(page.granular_site_restore_artifacts), page.next_page_token
        page = browsed.stub.ListGranularDriveRestoreArtifacts(
            service_pb.ListGranularDriveRestoreArtifactsRequest(
                restore_session_id=session_id, page_token=token
            ),
            timeout=timeout,
        )
        return list(page.granular_drive_restore_artifacts), page.next_page_token

    return list(restore_flow.every_page(fetch))
