"""Protected drives, sites and mailboxes and their restore points: seed data, the
protection unit and restorePoints routes, and restorePoints/search (with the artifact
query of a granular mailbox restore)."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph_emulator import schema
from graph_emulator.entra import ROLE_SEARCH_READ, Directory
from graph_emulator.graph import BASE, GRAPH_ID, GraphFailure, conform, guard, json_body, page
from graph_emulator.sessions import GRAPH_RESTORE_APP, graph_time

MAX_UNITS_PER_SEARCH = 20
MAX_POINTS_PER_UNIT = 5
POLICY_ID = "845457dc-4bb2-4815-bef3-8628ebd1952e"
# Seeded drives have a daily restore point for this many days before the seed's epoch.
SEED_DAYS = 14
SEED_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
RETENTION = timedelta(days=365)
FAST_RESTORE_DAYS = 7
# The options of the emulator's own next links (page()).
PAGING_OPTIONS = frozenset({"$top", "$skiptoken"})
_FILTER = re.compile(r"^(email|directoryObjectId) eq '([^']*)'$")
# The kinds of protection unit, as a session's workload needs them.
DRIVE, SITE, MAILBOX = "drive", "site", "mailbox"
MAILBOX_UNITS_CAST = "microsoft.graph.mailboxProtectionUnit"
UNIT_TYPES = {
    DRIVE: "#microsoft.graph.driveProtectionUnit",
    SITE: "#microsoft.graph.siteProtectionUnit",
    MAILBOX: "#microsoft.graph.mailboxProtectionUnit",
}
# The restore points Microsoft's documented requests name: they exist in every emulated
# tenant, so the documented requests can be sent as they are.
DOCUMENTED_RESTORE_POINTS = (
    "1f1fccc3-a642-4f61-bf49-f37b9a888279",
    "1f1fccc3-a642-4f61-bf49-f37b9a888280",
    "1b014d8c-71fe-4d00-a01a-31850bc5b32c",
    "2b014d8c-71fe-4d00-a01a-31850bc5b32",
    "3b014d8c-71fe-4d00-a01a-31850bc5b32c",
    "4b014d8c-71fe-4d00-a01a-31850bc5b32c",
)
# The drives the documented bulk request and search name, each with a fastRestore point
# inside the documented period (2021-01-01..08).
DOCUMENTED_OWNERS = ("contoso1@micorosft.com", "consotos2@microsoft.com", "contoso3@microsoft.com")
DOCUMENTED_SEARCHED_UNITS = (
    "23014d8c-71fe-4d00-a01a-31850bc5b42a",
    "43014d8c-71fe-4d00-a01a-31850bc5b42b",
    "83014d8c-71fe-4d00-a01a-31850bc5b42d",
)
DOCUMENTED_PERIOD_POINT = datetime(2021, 1, 4, tzinfo=UTC)
# The SharePoint bulk example's sites (URLs as the page spells them) and its period.
DOCUMENTED_SITE_URLS = (
    "https: //contoso1.sharepoint.com",
    "https: //contoso2.sharepoint.com",
    "https: //contoso3.sharepoint.com",
)
DOCUMENTED_SITE_POINT = datetime(2024, 1, 4, tzinfo=UTC)
# The fastRestore point the documented browse sessions are made on, of the drive (and,
# as the pages reuse it, site) they name.
DOCUMENTED_BROWSE_POINT = (
    "TXpSbE5HUXpNR1l0TldZMFlpMDBNMk16TFdFeFl6WXRZall3TTJFeFl6Sm1OV000WHpFPV8xNzQ5NTY3MDAwXzE0XzE="
)
DOCUMENTED_BROWSE_OWNER = "f3846f8d-80a6-4480-ae20-5966ebdf2009"
DOCUMENTED_BROWSE_POINT_TIME = datetime(2026, 1, 18, 3, 0, 15, tzinfo=UTC)
# The message search the documented granular mailbox restore names.
DOCUMENTED_SEARCH_RESPONSE = "M2UyZDAwMDAwMDMxMzkzYTMyNj"


@dataclass
class RestorePoint:
    id: str
    unit_id: str
    protected_at: datetime
    tags: str

    def to_graph(self, unit: ProtectionUnit | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.restorePoint",
            "id": self.id,
            "protectionDateTime": graph_time(self.protected_at),
            "expirationDateTime": graph_time(self.protected_at + RETENTION),
            "tags": self.tags,
        }
        if unit is not None:
            body["protectionUnit"] = unit.to_graph()
        return body


@dataclass
class ProtectionUnit:
    """A protected OneDrive or mailbox (named by its owner: directory object id, e-mail)
    or SharePoint site (named by site id and web URL)."""

    id: str
    directory_object_id: str
    email: str
    display_name: str
    created: datetime
    restore_points: list[RestorePoint] = field(default_factory=list)  # oldest first
    kind: str = DRIVE
    site_id: str = ""
    site_web_url: str = ""
    # The units Microsoft's documented requests name serve every workload: the pages
    # reuse the same ids for OneDrive, SharePoint and Exchange.
    documented: bool = False

    def serves(self, kind: str) -> bool:
        """Whether a session of this kind of unit may restore this unit's points."""
        return self.documented or self.kind == kind

    def to_graph(self) -> dict[str, Any]:
        """As an app-only caller sees it: a drive's or mailbox's `email` and
        `displayName` come only with delegated permissions, and every caller of this
        emulator is an app."""
        body: dict[str, Any] = {
            "@odata.type": UNIT_TYPES[self.kind],
            "id": self.id,
            "policyId": POLICY_ID,
            "protectionSources": "manual",
            "status": "protected",
            "createdBy": GRAPH_RESTORE_APP,
            "createdDateTime": graph_time(self.created),
            "lastModifiedBy": GRAPH_RESTORE_APP,
            "lastModifiedDateTime": graph_time(self.created),
            "offboardRequestedDateTime": "0001-01-01T00:00:00Z",
            "error": None,
        }
        if self.kind == SITE:
            body.update(
                siteId=self.site_id, siteName=self.display_name, siteWebUrl=self.site_web_url
            )
        else:
            body["directoryObjectId"] = self.directory_object_id
        return body

    def points_between(self, start: datetime, end: datetime, preference: str) -> list[RestorePoint]:
        """Restore points in [start, end], in the order the preference asks for."""
        inside = [p for p in self.restore_points if start <= p.protected_at <= end]
        return inside if preference == "oldest" else inside[::-1]


class Protection:
    """All protected drives, sites and mailboxes of the tenant, indexed the ways callers
    name them."""

    def __init__(self) -> None:
        self.units: dict[str, ProtectionUnit] = {}
        # (kind, name) -> unit; names: e-mail (lower case) and directory object id for
        # drives and mailboxes, web URL (lower case) and site id for sites.
        self.by_name: dict[tuple[str, str], ProtectionUnit] = {}
        self.restore_points: dict[str, RestorePoint] = {}
        # The units `seed` made (for protected.csv).
        self.seeded: list[ProtectionUnit] = []
        # Restore point ids starting with one of these exist on first use, each with a
        # unit of its own: test data named freely (`--restore-point-prefix`). A unit is a
        # site if the id contains "site", a mailbox if it contains "mailbox", else a drive.
        self.restore_point_prefixes: tuple[str, ...] = ()
        # searchResponseId of each message search -> the restore points it found: what a
        # granular mailbox artifact may name.
        self.message_searches: dict[str, set[str]] = {}

    def find(self, kind: str, name: str) -> ProtectionUnit | None:
        """The unit of `kind` a caller names (e-mail and URL in any case)."""
        return self.by_name.get((kind, name)) or self.by_name.get((kind, name.lower()))

    def restore_point(self, point_id: str) -> RestorePoint | None:
        """The restore point, if the tenant has it (Graph refuses any other)."""
        point = self.restore_points.get(point_id)
        if point is None and point_id.startswith(self.restore_point_prefixes or ("\0",)):
            point = self._drive_for(point_id)
        return point

    def describe(self, point_id: str) -> dict[str, Any]:
        """A restore point as an artifact shows it: id and protection times."""
        point = self.restore_point(point_id)
        if point is None:
            return {"id": point_id}
        body = point.to_graph()
        return {key: body[key] for key in ("id", "protectionDateTime", "expirationDateTime")}

    def _drive_for(self, point_id: str, documented: bool = False) -> RestorePoint:
        """A protected unit whose one restore point is `point_id`."""
        name = uuid.uuid5(uuid.NAMESPACE_URL, f"restore-point:{point_id}")
        kind = SITE if "site" in point_id else MAILBOX if "mailbox" in point_id else DRIVE
        unit = _unit(kind, str(name), str(uuid.uuid5(name, "owner")), f"owner-{name.hex[:12]}")
        unit.documented = documented
        point = RestorePoint(point_id, unit.id, SEED_EPOCH - timedelta(days=8), "none")
        unit.restore_points.append(point)
        self.add(unit)
        return point

    def seed(self, drives: int, seed: int, mailboxes: int = 0, sites: int = 0) -> None:
        """Protected drives and mailboxes of users user00000@contoso.com... and sites
        https://contoso.sharepoint.com/sites/site00000..., each with daily restore points,
        the same for the same seed; then what the documented requests name."""
        rng = random.Random(seed)

        def new_id() -> str:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        users = [(new_id(), f"user{index:05d}") for index in range(max(drives, mailboxes))]
        wanted = [
            *((DRIVE, user) for user in users[:drives]),
            *((MAILBOX, user) for user in users[:mailboxes]),
            *((SITE, (new_id(), f"site{index:05d}")) for index in range(sites)),
        ]
        for kind, (owner, name) in wanted:
            unit = _unit(kind, new_id(), owner, name)
            for day in range(SEED_DAYS, 0, -1):
                taken = SEED_EPOCH - timedelta(days=day, seconds=rng.randrange(6 * 3600))
                tags = "fastRestore" if day <= FAST_RESTORE_DAYS else "none"
                unit.restore_points.append(RestorePoint(new_id(), unit.id, taken, tags))
            self.add(unit)
            self.seeded.append(unit)
        self._documented_tenant()

    def _documented_tenant(self) -> None:
        """What Microsoft's documented requests name, so they can be sent as they are."""
        for point_id in DOCUMENTED_RESTORE_POINTS:
            self._drive_for(point_id, documented=True)
        self.message_searches[DOCUMENTED_SEARCH_RESPONSE] = {DOCUMENTED_RESTORE_POINTS[0]}
        browsed = self._drive_for(DOCUMENTED_BROWSE_POINT, documented=True)
        browsed.protected_at = DOCUMENTED_BROWSE_POINT_TIME
        browsed.tags = "fastRestore"
        owner = self.units[browsed.unit_id]
        owner.directory_object_id = owner.site_id = DOCUMENTED_BROWSE_OWNER
        self.add(owner)
        named = [
            *((DRIVE, name) for name in (*DOCUMENTED_OWNERS, *DOCUMENTED_SEARCHED_UNITS)),
            *((MAILBOX, name) for name in DOCUMENTED_OWNERS),
            *((SITE, url) for url in DOCUMENTED_SITE_URLS),
        ]
        for kind, name in named:
            label = name if kind == DRIVE else f"{kind}:{name}"
            key = uuid.uuid5(uuid.NAMESPACE_URL, f"documented:{label}")
            unit = _unit(
                kind,
                name if name in DOCUMENTED_SEARCHED_UNITS else str(key),
                str(uuid.uuid5(key, "owner")),
                f"owner-{key.hex[:12]}",
            )
            unit.documented = True
            unit.created = DOCUMENTED_PERIOD_POINT - timedelta(days=30)
            if "@" in name:
                unit.email = name
            if kind == SITE:
                unit.site_web_url = name
            taken = DOCUMENTED_SITE_POINT if kind == SITE else DOCUMENTED_PERIOD_POINT
            point_id = str(uuid.uuid5(key, "point"))
            unit.restore_points.append(RestorePoint(point_id, unit.id, taken, "fastRestore"))
            self.add(unit)

    def add(self, unit: ProtectionUnit) -> None:
        self.units[unit.id] = unit
        if unit.kind == SITE:
            names = (unit.site_web_url.lower(), unit.site_id)
        else:
            names = (unit.email.lower(), unit.directory_object_id)
        self.by_name.update(((unit.kind, name), unit) for name in names)
        self.restore_points.update((p.id, p) for p in unit.restore_points)


def _unit(kind: str, unit_id: str, owner: str, name: str) -> ProtectionUnit:
    """A unit as seeded: a drive or mailbox of <name>@contoso.com, or a site named
    <name> at https://contoso.sharepoint.com/sites/<name>."""
    created = SEED_EPOCH - timedelta(days=SEED_DAYS + 30)
    if kind == SITE:
        return ProtectionUnit(
            id=unit_id,
            directory_object_id="",
            email="",
            display_name=name,
            created=created,
            kind=SITE,
            site_id=f"contoso.sharepoint.com,{owner},{uuid.uuid5(uuid.NAMESPACE_URL, owner)}",
            site_web_url=f"https://contoso.sharepoint.com/sites/{name}",
        )
    return ProtectionUnit(
        id=unit_id,
        directory_object_id=owner,
        email=f"{name}@contoso.com",
        display_name=name,
        created=created,
        kind=kind,
    )


def parse_time_period(
    value: Any, code: str, end_required: bool = True
) -> tuple[datetime, datetime]:
    """Graph's timePeriod {startDateTime, endDateTime}. A search may leave out the end
    (its documented example does): then it runs to the end of time."""
    if not isinstance(value, dict):
        raise GraphFailure(400, code, "protectionTimePeriod is required.")
    try:
        start = datetime.fromisoformat(str(value["startDateTime"]))
        if "endDateTime" in value or end_required:
            end = datetime.fromisoformat(str(value["endDateTime"]))
        else:
            end = datetime.max.replace(tzinfo=UTC)
    except (KeyError, ValueError) as exc:
        raise GraphFailure(400, code, "protectionTimePeriod needs ISO 8601 start and end.") from exc
    if start.tzinfo is None or end.tzinfo is None or start > end:
        raise GraphFailure(400, code, "protectionTimePeriod must be a UTC range, start first.")
    return start, end


class ProtectionApi:
    def __init__(self, directory: Directory, protection: Protection) -> None:
        self.directory = directory
        self.protection = protection

    def routes(self) -> list[Route]:
        def route(path: str, handler: Any, method: str) -> Route:
            return Route(
                f"{BASE}{path}", guard(self.directory, ROLE_SEARCH_READ, handler), methods=[method]
            )

        return [
            route("/driveProtectionUnits", self.list_units, "GET"),
            route("/driveProtectionUnits/{id}", self.get_unit, "GET"),
            route("/siteProtectionUnits", self.list_site_units, "GET"),
            # The documented list of mailbox units is this cast of protectionUnits.
            route(
                "/protectionUnits/microsoft.graph.mailboxProtectionUnit",
                self.list_mailbox_units,
                "GET",
            ),
            route("/protectionUnits/{id}", self.get_any_unit, "GET"),
            route("/restorePoints/search", self.search, "POST"),
            route("/restorePoints/{id}", self.get_restore_point, "GET"),
            route("/restorePoints/{id}/protectionUnit", self.get_unit_of_point, "GET"),
        ]

    def _units_of(self, kind: str) -> list[ProtectionUnit]:
        return [u for u in self.protection.units.values() if u.kind == kind]

    async def list_site_units(self, request: Request) -> Response:
        """Paged by `@odata.nextLink` only: the page documents no query option (the
        schema's generic `$filter`, `$search`... say nothing of which properties they
        take), so a filter on siteWebUrl is refused rather than guessed at."""
        undocumented = set(request.query_params) - PAGING_OPTIONS
        if undocumented:
            raise GraphFailure(
                400, "BadRequest", f"Query option {sorted(undocumented)[0]} is not supported here."
            )
        return page(request, self._units_of(SITE), ProtectionUnit.to_graph, "siteProtectionUnits")

    async def list_mailbox_units(self, request: Request) -> Response:
        units = self._units_of(MAILBOX)
        return page(request, units, ProtectionUnit.to_graph, "mailboxProtectionUnits")

    async def get_any_unit(self, request: Request) -> Response:
        unit = self.protection.units.get(request.path_params["id"])
        if unit is None:
            raise GraphFailure(404, "ResourceNotFound", "Protection unit not found.")
        return JSONResponse(unit.to_graph())

    async def list_units(self, request: Request) -> Response:
        units = self._units_of(DRIVE)
        query = request.query_params.get("$filter")
        if query is not None:
            match = _FILTER.match(query)
            if match is None:
                raise GraphFailure(
                    400, "BadRequest", "Only $filter=email eq '...' or directoryObjectId eq '...'."
                )
            found = self.protection.find(DRIVE, match.group(2))
            units = [found] if found else []
        return page(request, units, ProtectionUnit.to_graph, "driveProtectionUnits")

    async def get_unit(self, request: Request) -> Response:
        unit = self.protection.units.get(request.path_params["id"])
        if unit is None or unit.kind != DRIVE:
            raise GraphFailure(404, "ResourceNotFound", "Protection unit not found.")
        return JSONResponse(unit.to_graph())

    def _restore_point(self, request: Request) -> RestorePoint:
        point = self.protection.restore_point(request.path_params["id"])
        if point is None:
            raise GraphFailure(404, "ResourceNotFound", "Restore point not found.")
        if request.query_params:
            # Not documented for this path: refused, not guessed at.
            raise GraphFailure(400, "BadRequest", "Query options are not supported here.")
        return point

    async def get_restore_point(self, request: Request) -> Response:
        return JSONResponse(self._restore_point(request).to_graph())

    async def get_unit_of_point(self, request: Request) -> Response:
        point = self._restore_point(request)
        return JSONResponse(self.protection.units[point.unit_id].to_graph())

    async def search(self, request: Request) -> Response:
        body = await json_body(request)
        unit_ids = body.get("protectionUnitIds")
        if not isinstance(unit_ids, list) or not unit_ids:
            raise GraphFailure(400, "InvalidSearchRequest", "protectionUnitIds is required.")
        if len(unit_ids) > MAX_UNITS_PER_SEARCH:
            raise GraphFailure(
                400,
                "InvalidSearchRequest",
                f"At most {MAX_UNITS_PER_SEARCH} protection units can be searched at once.",
            )
        for unit_id in unit_ids:
            if not isinstance(unit_id, str) or not GRAPH_ID.match(unit_id):
                raise GraphFailure(
                    400, "InvalidProtectionUnitId", f"Invalid protection unit id {unit_id!r}."
                )
        start, end = parse_time_period(
            body.get("protectionTimePeriod"), "InvalidSearchRequest", end_required=False
        )
        # With a preference, the one point it picks per unit; without, up to five, latest
        # first (the page says both "one restore point per unit" and "at most five").
        preference = body.get("restorePointPreference") or "latest"
        per_unit = 1 if body.get("restorePointPreference") else MAX_POINTS_PER_UNIT
        if preference not in ("latest", "oldest"):
            raise GraphFailure(
                400, "InvalidSearchRequest", f"Unknown restorePointPreference {preference!r}."
            )
        query = _artifact_query(body.get("artifactQuery"), unit_ids, self.protection)
        conform(body, schema.request_validator("/restorePoints/search", "POST"))
        wanted_tags = {t.strip() for t in str(body.get("tags") or "").split(",") if t.strip()}
        results: list[dict[str, Any]] = []
        empty: list[str] = []
        for unit_id in unit_ids:
            unit = self.protection.units.get(unit_id)
            points = unit.points_between(start, end, preference) if unit else []
            if wanted_tags:
                points = [p for p in points if wanted_tags & set(p.tags.split(","))]
            if not points or unit is None:
                empty.append(unit_id)
                continue
            results.extend(
                {"artifactHitCount": _hits(p, query), "restorePoint": p.to_graph(unit)}
                for p in points[:per_unit]
            )
        search_id = str(uuid.uuid4())
        if query:
            found = {r["restorePoint"]["id"] for r in results}
            self.protection.message_searches[search_id] = found
        return JSONResponse(
            {
                "@odata.context": "/solutions/backupRestore/$metadata"
                "#microsoft.graph.restorePointSearchResponse",
                "searchResponseId": search_id,
                "searchResults": results,
                "noResultProtectionUnitIds": empty,
            }
        )


def _artifact_query(value: Any, unit_ids: list[str], protection: Protection) -> str:
    """A search's artifactQuery (mailbox messages of exactly one mailbox unit); "" when
    the search has none."""
    if value is None:
        return ""
    if not isinstance(value, dict) or value.get("artifactType") != "message":
        raise GraphFailure(
            400, "InvalidSearchRequest", "artifactQuery.artifactType must be 'message'."
        )
    expression = value.get("queryExpression")
    if not isinstance(expression, str) or not expression.strip():
        raise GraphFailure(
            400, "InvalidSearchRequest", "artifactQuery.queryExpression is required."
        )
    if len(unit_ids) != 1:
        raise GraphFailure(
            400, "InvalidSearchRequest", "An artifactQuery searches exactly one protection unit."
        )
    unit = protection.units.get(unit_ids[0])
    # Not documented for other units: refused (only mailbox messages can be searched).
    if unit is not None and not unit.serves(MAILBOX):
        raise GraphFailure(
            400, "InvalidSearchRequest", "Only mailbox protection units hold messages to search."
        )
    return expression


def _hits(point: RestorePoint, query: str) -> int:
    """How many messages of a point match a query: the same every time it is asked."""
    if not query:
        return 0
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{point.id}|{query}").int % 40 + 1
