"""Drive protection units and the users they protect. A bulk request names drives by
owner e-mail or directoryObjectId only (its protectionUnitIds is documented as not
implemented), so units become directory object ids here; and a caller restricted to
units has its directory object ids turned back into units. A drive's unit and owner
never change: what is looked up is kept."""

from __future__ import annotations

from graphrestore_gateway.bounded import BoundedMap, gather_bounded
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import GraphError
from graphrestore_gateway.restore import convert

LOOKUPS_IN_FLIGHT = 8
CACHED_DRIVES = 100_000


class DriveDirectory:
    """Unit id <-> directory object id, shared by every call of the process."""

    def __init__(self) -> None:
        self._object_of_unit = BoundedMap(CACHED_DRIVES)
        self._unit_of_object = BoundedMap(CACHED_DRIVES)

    def remember(self, unit_id: str, directory_object_id: str) -> None:
        self._object_of_unit.put(unit_id, directory_object_id)
        self._unit_of_object.put(directory_object_id, unit_id)

    def object_of_unit(self, unit_id: str) -> str | None:
        return self._object_of_unit.get(unit_id)

    def unit_of_object(self, directory_object_id: str) -> str | None:
        return self._unit_of_object.get(directory_object_id)


class DriveUnits:
    """Lookups for one call, through its view of Graph."""

    def __init__(self, graph: GraphClient, directory: DriveDirectory, deadline: Deadline) -> None:
        self._graph = graph
        self._directory = directory
        self._deadline = deadline

    async def directory_object_ids(self, unit_ids: list[str]) -> dict[str, str]:
        """Unit id -> its drive's directory object id, for the units Graph knows."""

        async def look_up(unit_id: str) -> None:
            try:
                answer = await self._graph.get_drive_protection_unit(unit_id, self._deadline)
            except GraphError as error:
                if error.http_status in (400, 404):
                    return
                raise
            object_id = answer.body.get("directoryObjectId")
            if isinstance(object_id, str) and object_id:
                self._directory.remember(unit_id, object_id)

        unknown = [u for u in dict.fromkeys(unit_ids) if self._directory.object_of_unit(u) is None]
        await gather_bounded(unknown, look_up, LOOKUPS_IN_FLIGHT)
        found = {u: self._directory.object_of_unit(u) for u in unit_ids}
        return {u: o for u, o in found.items() if o}

    async def unit_ids(self, directory_object_ids: list[str]) -> list[str]:
        """The unit protecting each user's drive ("" for a user Graph protects none of)."""

        async def look_up(object_id: str) -> None:
            answer = await self._graph.find_drive_protection_unit(object_id, self._deadline)
            for unit in convert.collection(answer.body, dict):
                unit_id = unit.get("id")
                if isinstance(unit_id, str) and unit_id:
                    self._directory.remember(unit_id, object_id)

        unknown = [
            o
            for o in dict.fromkeys(directory_object_ids)
            if self._directory.unit_of_object(o) is None
        ]
        await gather_bounded(unknown, look_up, LOOKUPS_IN_FLIGHT)
        return [self._directory.unit_of_object(o) or "" for o in directory_object_ids]
