"""What the policy needs to know from Graph: how full a session is, and which protection
unit each restore point belongs to."""

from __future__ import annotations

import asyncio

from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import GraphError
from graphrestore_gateway.restore import convert

LOOKUP_S = 10.0
LOOKUPS_IN_FLIGHT = 8


class GraphFacts:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    async def session_size(self, session_id: str) -> int:
        """Artifacts the session holds; 0 when Graph cannot say (the RPC then meets
        Graph's own answer, e.g. NOT_FOUND)."""
        try:
            answer = await self._graph.get_restore_session(session_id, Deadline.after(LOOKUP_S))
        except GraphError:
            return 0
        return convert.restore_session_from_graph(answer.body).restore_session_artifact_count.total

    async def units_of(self, restore_point_ids: list[str]) -> dict[str, str]:
        """Restore point id -> protection unit id, for the points Graph knows."""
        slots = asyncio.Semaphore(LOOKUPS_IN_FLIGHT)
        deadline = Deadline.after(LOOKUP_S)

        async def unit_of(point_id: str) -> tuple[str, str]:
            async with slots:
                try:
                    answer = await self._graph.get_restore_point(point_id, deadline)
                except GraphError:
                    return point_id, ""
            point = convert.restore_point_from_graph(answer.body)
            return point_id, point.protection_unit.id if point else ""

        found = await asyncio.gather(*(unit_of(p) for p in dict.fromkeys(restore_point_ids)))
        return {point: unit for point, unit in found if unit}
