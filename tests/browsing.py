"""Callers of the browse and granular OneDrive/SharePoint RPCs over mTLS, with narrow
rules, and the steps a person takes: find a fastRestore point, make a browse session,
walk down to a folder, pick items. Shared by test_browse.py and test_granular_restore.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mailboxes
from graphrestore.channel import open_channel
from graphrestore.v1 import browse_session_pb2 as browse_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as onedrive_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb
from graphrestore.v1 import sharepoint_restore_service_pb2_grpc as sharepoint_grpc
from helpers import wait_for
from processes import Emulator, MtlsGateway, start_mtls_gateway
from test_workloads import period

GRAPH = "/v1.0/solutions/backupRestore"
EVERY_METHOD = sorted(
    set(service_pb.DESCRIPTOR.services_by_name["OneDriveRestoreService"].methods_by_name)
    | set(sharepoint_pb.DESCRIPTOR.services_by_name["SharePointRestoreService"].methods_by_name)
)
BROWSE_METHODS = ("CreateBrowseSession", "GetBrowseSession", "ListBrowseSessions", "Browse")


@dataclass(frozen=True)
class Rule(mailboxes.Rule):
    """One caller of the OneDrive and SharePoint services: its SPIFFE id and what it may
    do."""

    workloads: tuple[str, ...] = ("onedrive", "sharepoint")
    methods: tuple[str, ...] = tuple(EVERY_METHOD)


@dataclass
class Stubs:
    onedrive: onedrive_grpc.OneDriveRestoreServiceStub
    sharepoint: sharepoint_grpc.SharePointRestoreServiceStub


@dataclass
class BrowseGateway:
    """A gateway whose callers are `rules` (by name), on `emulator`."""

    mtls: MtlsGateway
    emulator: Emulator
    rules: dict[str, Rule]
    issued: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def stubs(self, name: str) -> Iterator[Stubs]:
        if name not in self.issued:
            self.issued[name] = self.mtls.ca.issue(name, name, uri=self.rules[name].uri)
        issued = self.issued[name]
        channel = open_channel(
            self.mtls.gateway.address,
            ca_file=str(self.mtls.ca.cert_file),
            cert_file=str(issued.cert_file),
            key_file=str(issued.key_file),
        )
        with channel:
            yield Stubs(
                onedrive_grpc.OneDriveRestoreServiceStub(channel),
                sharepoint_grpc.SharePointRestoreServiceStub(channel),
            )

    def audit(self) -> list[dict[str, Any]]:
        audit_file = self.mtls.audit_file
        if not audit_file.exists():
            return []
        return [json.loads(line) for line in audit_file.read_text().splitlines()]

    def graph_calls(self, since: int, fragment: str) -> list[dict[str, Any]]:
        """Requests Graph received since journal entry `since` whose path holds `fragment`."""
        return [r for r in self.emulator.journal()[since:] if fragment in r["path"]]


def start_browse_gateway(emulator: Emulator, folder: Path, rules: dict[str, Rule]) -> BrowseGateway:
    policy = "\n".join(rule.toml() for rule in rules.values())
    mtls = start_mtls_gateway(emulator.gateway_env(), folder, policy)
    return BrowseGateway(mtls, emulator, rules)


def drive_units(emulator: Emulator) -> list[dict[str, Any]]:
    with emulator.graph_client() as graph:
        return list(graph.get("/driveProtectionUnits").json()["value"])


def site_units(emulator: Emulator) -> list[dict[str, Any]]:
    with emulator.graph_client() as graph:
        return list(graph.get("/siteProtectionUnits").json()["value"])


def fast_point(service: Any, unit_id: str) -> str:
    """The newest fastRestore point of a unit, found through the gateway."""
    found = service.SearchRestorePoints(
        service_pb.SearchRestorePointsRequest(
            protection_unit_ids=[unit_id],
            protection_time_period=period(),
            tags=[pb.RESTORE_POINT_TAG_FAST_RESTORE],
        ),
        timeout=20,
    )
    return str(found.search_results[0].restore_point.id)


def create_browse_session(
    service: Any, point_id: str, request_id: str = ""
) -> browse_pb.BrowseSession:
    return service.CreateBrowseSession(
        service_pb.CreateBrowseSessionRequest(
            restore_point_id=point_id, request_id=request_id or str(uuid.uuid4())
        ),
        timeout=20,
    )


def created(service: Any, emulator: Emulator, point_id: str) -> browse_pb.BrowseSession:
    """A browse session on the point, once Graph has created it (3 s on its clock)."""
    session = create_browse_session(service, point_id)
    assert session.status == browse_pb.BROWSE_SESSION_STATUS_CREATING
    emulator.advance_clock(5)
    request = service_pb.GetBrowseSessionRequest(browse_session_id=session.id)
    assert wait_for(
        lambda: (
            service.GetBrowseSession(request, timeout=20).status
            == browse_pb.BROWSE_SESSION_STATUS_CREATED
        ),
        10,
    )
    return service.GetBrowseSession(request, timeout=20)  # type: ignore[no-any-return]


def browse(
    service: Any,
    session_id: str,
    item: browse_pb.BrowseQueryResponseItem | None = None,
    **more: Any,
) -> service_pb.BrowseResponse:
    request = service_pb.BrowseRequest(browse_session_id=session_id, **more)
    if item is not None:
        request.browse_location_item_key = item.item_key
        request.browse_resource_type = LOCATIONS[item.type]
    return service.Browse(request, timeout=20)


LOCATIONS = {
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_SITE: browse_pb.BROWSABLE_RESOURCE_TYPE_SITE,
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_DOCUMENT_LIBRARY: (
        browse_pb.BROWSABLE_RESOURCE_TYPE_DOCUMENT_LIBRARY
    ),
    browse_pb.BROWSE_QUERY_RESPONSE_ITEM_TYPE_FOLDER: browse_pb.BROWSABLE_RESOURCE_TYPE_FOLDER,
}


def every_item(
    service: Any, session_id: str, item: browse_pb.BrowseQueryResponseItem | None = None
) -> list[browse_pb.BrowseQueryResponseItem]:
    """Every item at a location, following the gateway's page tokens."""
    page = browse(service, session_id, item)
    items = list(page.items)
    while page.next_page_token:
        page = browse(service, session_id, item, page_token=page.next_page_token)
        items += page.items
    return items


def walk(service: Any, session_id: str, *names: str) -> browse_pb.BrowseQueryResponseItem:
    """The item at /<names...> below the top site (names[0] is a document library)."""
    [where] = every_item(service, session_id)
    for name in names:
        [where] = [i for i in every_item(service, session_id, where) if i.name == name]
    return where


def items_request(
    field_name: str, session_id: str, *items: browse_pb.BrowseQueryResponseItem
) -> service_pb.CreateRestoreSessionRequest:
    """A create of a granular session of the items (field: granular_drive_... or
    granular_site_restore_artifacts)."""
    session = pb.RestoreSession()
    for item in items:
        getattr(session, field_name).add(browse_session_id=session_id, id=item.item_key)
    return service_pb.CreateRestoreSessionRequest(
        restore_session=session, request_id=str(uuid.uuid4())
    )
