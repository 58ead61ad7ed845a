"""Protected drives and their restore points: seed data, the driveProtectionUnits and
restorePoints routes, and restorePoints/search."""

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
from graph_emulator.sessions import graph_time

MAX_UNITS_PER_SEARCH = 20
MAX_POINTS_PER_UNIT = 5
POLICY_ID = "845457dc-4bb2-4815-bef3-8628ebd1952e"
# Seeded drives have a daily restore point for this many days before the seed's epoch.
SEED_DAYS = 14
SEED_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
RETENTION = timedelta(days=365)
FAST_RESTORE_DAYS = 7
_FILTER = re.compile(r"^(email|directoryObjectId) eq '([^']*)'$")
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
    """A protected OneDrive (Graph's driveProtectionUnit)."""

    id: str
    directory_object_id: str
    email: str
    display_name: str
    created: datetime
    restore_points: list[RestorePoint] = field(default_factory=list)  # oldest first

    def to_graph(self) -> dict[str, Any]:
        """As an app-only caller sees it: `email` and `displayName` come only with
        delegated permissions, and every caller of this emulator is an app."""
        return {
            "@odata.type": "#microsoft.graph.driveProtectionUnit",
            "id": self.id,
            "policyId": POLICY_ID,
            "protectionSources": "manual",
            "status": "protected",
            "createdDateTime": graph_time(self.created),
            "lastModifiedDateTime": graph_time(self.created),
            "error": None,
            "directoryObjectId": self.directory_object_id,
        }

    def points_between(self, start: datetime, end: datetime, preference: str) -> list[RestorePoint]:
        """Restore points in [start, end], in the order the preference asks for."""
        inside = [p for p in self.restore_points if start <= p.protected_at <= end]
        return inside if preference == "oldest" else inside[::-1]


class Protection:
    """All protected drives of the tenant, indexed the ways callers name them."""

    def __init__(self) -> None:
        self.units: dict[str, ProtectionUnit] = {}
        self.by_email: dict[str, ProtectionUnit] = {}
        self.by_directory_object: dict[str, ProtectionUnit] = {}
        self.restore_points: dict[str, RestorePoint] = {}
        # The drives `seed` made (for protected-drives.csv).
        self.seeded: list[ProtectionUnit] = []
        # Restore point ids starting with one of these exist on first use, each with a
        # drive of its own: test data named freely (`--restore-point-prefix`).
        self.restore_point_prefixes: tuple[str, ...] = ()

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

    def _drive_for(self, point_id: str) -> RestorePoint:
        """A protected drive whose one restore point is `point_id`."""
        name = uuid.uuid5(uuid.NAMESPACE_URL, f"restore-point:{point_id}")
        unit = ProtectionUnit(
            id=str(name),
            directory_object_id=str(uuid.uuid5(name, "owner")),
            email=f"owner-{name.hex[:12]}@contoso.com",
            display_name=f"Owner {name.hex[:12]}",
            created=SEED_EPOCH - timedelta(days=SEED_DAYS + 30),
        )
        point = RestorePoint(point_id, unit.id, SEED_EPOCH - timedelta(days=8), "none")
        unit.restore_points.append(point)
        self.add(unit)
        return point

    def seed(self, drives: int, seed: int) -> None:
        """`drives` protected drives with daily restore points, the same for the same seed,
        then one drive for each restore point of the documented requests."""
        rng = random.Random(seed)

        def new_id() -> str:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        for index in range(drives):
            unit = ProtectionUnit(
                id=new_id(),
                directory_object_id=new_id(),
                email=f"user{index:05d}@contoso.com",
                display_name=f"User {index:05d}",
                created=SEED_EPOCH - timedelta(days=SEED_DAYS + 30),
            )
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
            self._drive_for(point_id)
        for name in (*DOCUMENTED_OWNERS, *DOCUMENTED_SEARCHED_UNITS):
            key = uuid.uuid5(uuid.NAMESPACE_URL, f"documented:{name}")
            unit = ProtectionUnit(
                id=name if name in DOCUMENTED_SEARCHED_UNITS else str(key),
                directory_object_id=str(uuid.uuid5(key, "owner")),
                email=name if "@" in name else f"owner-{key.hex[:12]}@contoso.com",
                display_name=name,
                created=DOCUMENTED_PERIOD_POINT - timedelta(days=30),
            )
            point_id = str(uuid.uuid5(key, "point"))
            unit.restore_points.append(
                RestorePoint(point_id, unit.id, DOCUMENTED_PERIOD_POINT, "fastRestore")
            )
            self.add(unit)

    def add(self, unit: ProtectionUnit) -> None:
        self.units[unit.id] = unit
        self.by_email[unit.email.lower()] = unit
        self.by_directory_object[unit.directory_object_id] = unit
        self.restore_points.update((p.id, p) for p in unit.restore_points)


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
            route("/restorePoints/search", self.search, "POST"),
            route("/restorePoints/{id}", self.get_restore_point, "GET"),
            route("/restorePoints/{id}/protectionUnit", self.get_unit_of_point, "GET"),
        ]

    async def list_units(self, request: Request) -> Response:
        units = list(self.protection.units.values())
        query = request.query_params.get("$filter")
        if query is not None:
            match = _FILTER.match(query)
            if match is None:
                raise GraphFailure(
                    400, "BadRequest", "Only $filter=email eq '...' or directoryObjectId eq '...'."
                )
            prop, value = match.groups()
            index = (
                self.protection.by_email if prop == "email" else self.protection.by_directory_object
            )
            found = index.get(value.lower() if prop == "email" else value)
            units = [found] if found else []
        return page(request, units, ProtectionUnit.to_graph, "driveProtectionUnits")

    async def get_unit(self, request: Request) -> Response:
        unit = self.protection.units.get(request.path_params["id"])
        if unit is None:
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
                {"artifactHitCount": 0, "restorePoint": p.to_graph(unit)} for p in points[:per_unit]
            )
        return JSONResponse(
            {
                "@odata.context": "/solutions/backupRestore/$metadata"
                "#microsoft.graph.restorePointSearchResponse",
                "searchResponseId": str(uuid.uuid4()),
                "searchResults": results,
                "noResultProtectionUnitIds": empty,
            }
        )
