"""Browse sessions on fastRestore points: their lifecycle on the emulator's clock (creating,
created or failed, deleted at expiry) and the browse query over the point's tree (location,
name filter, order, pages)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from graph_emulator.graph import GraphFailure
from graph_emulator.protection import DRIVE, SITE, Protection, ProtectionUnit, RestorePoint
from graph_emulator.sessions import Clock, graph_time
from graph_emulator.tree import (
    FILE,
    Item,
    Tree,
    documented_tree,
    onedrive_web_url,
    seeded_tree,
)
from graph_emulator.tree import SITE as SITE_ITEM

# Not documented: how long `creating` lasts (every documented answer already says created).
CREATING_FOR = timedelta(seconds=3)
# Every documented session expires 3 days (less 1 to 3 s) after it was created.
LIFETIME = timedelta(days=3) - timedelta(seconds=3)
# Not documented; the examples show pages of 10.
PAGE_SIZE = 10
# The browse sessions and item keys Microsoft's documented granular requests name: they
# exist in every emulated tenant, on the documented restore point, so the documented
# requests can be sent as they are.
DOCUMENTED_BROWSE_SESSIONS = (
    "m_RtZ8BiiUXOK69cuN6gwubfm9_yeVlDg8s6hci01_cVOAE",
    "eJxVjEEKwjAQRfc80xeIleluFd2HRkZCgAIEu9CO3aUv78W4H_q_NgQY2gSJHT8IoOhrl5AzosZGBk6",
)
DOCUMENTED_SITE_KEY = "f3846f8d-80a6-4480-ae20-5966ebdf2009,26380145-c085-4772-b5ef-94de6bc9447e"
_TAIL = (
    "2a8b7eaf-092a-4561-a25a-998ad2e5142e,38eec3f1-b879-44a6-8ae6-05bd46ed4b3d,"
    "ce66019f-cdf9-4575-aa81-de3aabe844a2"
)
_LIBRARY = f"{DOCUMENTED_SITE_KEY},3be2f282-276a-4a1a-8db0-8bf0849df84d"
DOCUMENTED_ITEM_KEYS = [
    f"a535851e-9fc6-4eb1-90ab-2955fd9117b5,{_TAIL}",
    f"b535851e-9fc6-4eb1-90ab-2955fd9117b5,{_TAIL}",
    f"{_LIBRARY},8d1ba53f-986a-409f-bf90-3bf55dbd7526",
    f"{_LIBRARY},292dcd7d-b1c3-40e5-afc3-7c10503a0eac",
]
_FILTER = re.compile(r"^\(name -contains '([^']*)'\)$")
ORDERS = {
    "pathAsc": (lambda item: item.path.casefold(), False),
    "pathDsc": (lambda item: item.path.casefold(), True),
    "nameAsc": (lambda item: item.name.casefold(), False),
    "nameDsc": (lambda item: item.name.casefold(), True),
}


@dataclass(frozen=True)
class Kind:
    """A kind of browse session: its entity set, type, and the unit it browses."""

    entity_set: str
    type_name: str
    unit_kind: str
    # The property that names the backed-up drive or site.
    owner_property: str


ONEDRIVE_BROWSE = Kind(
    "oneDriveForBusinessBrowseSessions",
    "oneDriveForBusinessBrowseSession",
    DRIVE,
    "directoryObjectId",
)
SHAREPOINT_BROWSE = Kind("sharePointBrowseSessions", "sharePointBrowseSession", SITE, "siteId")
KINDS = (ONEDRIVE_BROWSE, SHAREPOINT_BROWSE)


@dataclass
class BrowseSession:
    id: str
    kind: Kind
    app_id: str
    point: RestorePoint
    unit: ProtectionUnit
    tree: Tree
    created: datetime
    failed: bool = False
    # Microsoft's documented sessions serve both kinds (the pages reuse one id for both).
    documented: bool = False

    @property
    def expires(self) -> datetime:
        return self.created + LIFETIME

    def status(self, now: datetime) -> str:
        if now < self.created + CREATING_FOR:
            return "creating"
        return "failed" if self.failed else "created"

    def serves(self, kind: Kind) -> bool:
        return self.documented or self.kind == kind

    def owner(self) -> str:
        if self.kind.unit_kind == SITE:
            return self.unit.site_id
        return self.unit.directory_object_id

    def to_graph(self, now: datetime, typed: bool) -> dict[str, Any]:
        """As documented: no restorePointId echoed; @odata.type only in lists."""
        status = self.status(now)
        body: dict[str, Any] = (
            {"@odata.type": f"#microsoft.graph.{self.kind.type_name}"} if typed else {}
        )
        body.update(
            {
                "id": self.id,
                "restorePointDateTime": graph_time(self.point.protected_at),
                "status": status,
                "createdDateTime": graph_time(self.created),
                "expirationDateTime": graph_time(self.expires),
                "backupSizeInBytes": str(self.tree.site.size_at(self.point.protected_at)),
                self.kind.owner_property: self.owner(),
                "error": {
                    "code": "BrowseSessionCreationFailed",
                    "message": "The restore point could not be prepared for browsing.",
                }
                if status == "failed"
                else None,
            }
        )
        return body

    def item(self, key: str) -> Item | None:
        """The item of this session's tree with `key`, if it existed at the point."""
        found = self.tree.by_key.get(key)
        if found is None or not found.exists_at(self.point.protected_at):
            return None
        return found


def item_to_graph(item: Item, moment: datetime) -> dict[str, Any]:
    """A browseQueryResponseItem; top-level sites carry no count or size (as documented)."""
    body: dict[str, Any] = {
        "itemKey": item.key,
        "name": item.name,
        "webUrl": item.web_url,
        "type": item.type,
    }
    if item.type != SITE_ITEM:
        body["itemsCount"] = 0 if item.type == FILE else len(item.visible_children(moment))
        body["sizeInBytes"] = str(item.size_at(moment))
    return body


@dataclass(frozen=True)
class Query:
    """One browse: where (None: the top), which names, in which order."""

    location: str | None
    resource_type: str | None
    name_contains: str
    order_by: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Query:
        location = body.get("browseLocationItemKey")
        resource_type = body.get("browseResourceType")
        if resource_type == "none":
            resource_type = None
        if (location is None) != (resource_type is None):
            raise GraphFailure(
                400,
                "BadRequest",
                "browseLocationItemKey and browseResourceType are given together.",
            )
        query_filter = body.get("filter") or ""
        name_contains = ""
        if query_filter:
            match = _FILTER.match(query_filter.strip())
            if match is None:
                raise GraphFailure(
                    400, "BadRequest", "Only a filter (name -contains '...') is supported."
                )
            name_contains = match.group(1)
        order_by = body.get("orderBy") or "pathAsc"
        if order_by not in ORDERS:
            raise GraphFailure(400, "BadRequest", f"Unsupported orderBy {order_by!r}.")
        return cls(location, resource_type, name_contains, order_by)

    def to_token(self) -> dict[str, Any]:
        return {
            "itemkey": self.location,
            "type": self.resource_type,
            "filter": self.name_contains,
            "orderBy": self.order_by,
        }

    @classmethod
    def from_token(cls, token: dict[str, Any]) -> Query:
        """The query a $skiptoken carries, checked as a body is (callers can write one)."""
        values = [token.get(name) for name in ("itemkey", "type", "filter", "orderBy")]
        if not all(value is None or isinstance(value, str) for value in values):
            raise GraphFailure(400, "BadRequest", "The $skiptoken is invalid.")
        return cls.from_body(
            {
                "browseLocationItemKey": token.get("itemkey"),
                "browseResourceType": token.get("type"),
                "filter": f"(name -contains '{token['filter']}')" if token.get("filter") else None,
                "orderBy": token.get("orderBy"),
            }
        )

    def run(self, session: BrowseSession) -> list[Item]:
        """The items at the location, as the session's restore point holds them."""
        moment = session.point.protected_at
        if self.location is None:
            items = [session.tree.site]
        else:
            where = session.item(self.location)
            if where is None or where.type == FILE:
                raise GraphFailure(404, "ItemNotFound", "No browsable item has this key.")
            if where.type != self.resource_type:
                raise GraphFailure(
                    400,
                    "BadRequest",
                    f"The item is a {where.type}, not a {self.resource_type}.",
                )
            items = where.visible_children(moment)
        wanted = self.name_contains.casefold()
        items = [item for item in items if wanted in item.name.casefold()]
        key, descending = ORDERS[self.order_by]
        return sorted(items, key=key, reverse=descending)


class BrowseStore:
    """Every browse session of the tenant; a session past its expiry is gone."""

    def __init__(self, clock: Clock, protection: Protection, failing_points: set[str]) -> None:
        self.clock = clock
        self.protection = protection
        self.failing_points = failing_points
        self.sessions: dict[str, BrowseSession] = {}
        self.trees: dict[str, Tree] = {}

    def tree_of(self, unit: ProtectionUnit) -> Tree:
        tree = self.trees.get(unit.id)
        if tree is None:
            is_site = unit.kind == SITE
            name = unit.display_name
            web_url = unit.site_web_url if is_site else onedrive_web_url(unit.email)
            epoch = unit.restore_points[-1].protected_at if unit.restore_points else unit.created
            tree = seeded_tree(unit.id, name, web_url, is_site, epoch)
            self.trees[unit.id] = tree
        return tree

    def create(self, kind: Kind, app_id: str, point_id: str) -> BrowseSession:
        """A session on a fastRestore point of the kind's unit (400 InvalidRestorePoint
        otherwise, in Graph's error shape: the refusal is not documented)."""
        point = self.protection.restore_point(point_id)
        if point is None:
            raise GraphFailure(
                400, "InvalidRestorePoint", f"Restore point {point_id} does not exist."
            )
        unit = self.protection.units[point.unit_id]
        if not unit.serves(kind.unit_kind):
            raise GraphFailure(
                400,
                "InvalidRestorePoint",
                f"Restore point {point_id} is not a {kind.unit_kind} restore point.",
            )
        if "fastRestore" not in point.tags.split(","):
            raise GraphFailure(
                400,
                "InvalidRestorePoint",
                "Only fastRestore points are supported to create a browse session.",
            )
        return self.add(kind, app_id, point, self.tree_of(unit))

    def add(
        self,
        kind: Kind,
        app_id: str,
        point: RestorePoint,
        tree: Tree,
        session_id: str = "",
        documented: bool = False,
    ) -> BrowseSession:
        session = BrowseSession(
            id=session_id or secrets.token_urlsafe(36),
            kind=kind,
            app_id=app_id,
            point=point,
            unit=self.protection.units[point.unit_id],
            tree=tree,
            created=self.clock.now(),
            failed=point.id in self.failing_points,
            documented=documented,
        )
        self.sessions[session.id] = session
        return session

    def get(self, session_id: str) -> BrowseSession | None:
        self._forget_expired()
        return self.sessions.get(session_id)

    def listed(self, kind: Kind | None) -> list[BrowseSession]:
        self._forget_expired()
        return [s for s in self.sessions.values() if kind is None or s.kind == kind]

    def _forget_expired(self) -> None:
        now = self.clock.now()
        for session_id in [s.id for s in self.sessions.values() if s.expires <= now]:
            del self.sessions[session_id]

    def seed_documented(self, point_id: str) -> None:
        """The documented browse sessions, already created, on the documented point, whose
        unit's tree holds what the documented requests name (for new sessions too)."""
        point = self.protection.restore_points[point_id]
        tree = documented_tree(
            point.unit_id, point.protected_at, DOCUMENTED_SITE_KEY, DOCUMENTED_ITEM_KEYS
        )
        self.trees[point.unit_id] = tree
        for session_id in DOCUMENTED_BROWSE_SESSIONS:
            session = self.add(ONEDRIVE_BROWSE, "", point, tree, session_id, documented=True)
            session.created -= CREATING_FOR
