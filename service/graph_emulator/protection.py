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

from graph_emulator.entra import ROLE_SEARCH_READ, Directory
from graph_emulator.graph import BASE, GRAPH_ID, GraphFailure, guard, json_body, page
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


@dataclass
class RestorePoint:
    id: str
    unit_id: str
    protected_at: datetime
    tags: str

    def to_graph(self, unit: ProtectionUnit | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
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
            "email": self.email,
            "displayName": self.display_name,
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

    def seed(self, drives: int, seed: int) -> None:
        """`drives` protected drives with daily restore points, the same for the same seed."""
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

    def add(self, unit: ProtectionUnit) -> None:
        self.units[unit.id] = unit
        self.by_email[unit.email.lower()] = unit
        self.by_directory_object[unit.directory_object_id] = unit
        self.restore_points.update((p.id, p) for p in unit.restore_points)


def parse_time_period(value: Any, code: str) -> tuple[datetime, datetime]:
    """Graph's timePeriod {startDateTime, endDateTime}, both required."""
    if not isinstance(value, dict):
        raise GraphFailure(400, code, "protectionTimePeriod is required.")
    try:
        start = datetime.fromisoformat(str(value["startDateTime"]))
        end = datetime.fromisoformat(str(value["endDateTime"]))
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

    async def get_restore_point(self, request: Request) -> Response:
        point = self.protection.restore_points.get(request.path_params["id"])
        if point is None:
            raise GraphFailure(404, "ResourceNotFound", "Restore point not found.")
        expand = request.query_params.get("$expand")
        if expand not in (None, "protectionUnit"):
            raise GraphFailure(400, "BadRequest", f"Cannot expand {expand!r}.")
        unit = self.protection.units[point.unit_id] if expand else None
        return JSONResponse(point.to_graph(unit))

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
        start, end = parse_time_period(body.get("protectionTimePeriod"), "InvalidSearchRequest")
        preference = body.get("restorePointPreference") or "latest"
        if preference not in ("latest", "oldest"):
            raise GraphFailure(
                400, "InvalidSearchRequest", f"Unknown restorePointPreference {preference!r}."
            )
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
                {"artifactHitCount": 0, "restorePoint": p.to_graph(unit)}
                for p in points[:MAX_POINTS_PER_UNIT]
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
