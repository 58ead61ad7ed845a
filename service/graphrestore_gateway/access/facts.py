"""What the policy needs to know from Graph: how full a session is, what it holds (or,
where Graph lists nothing, what the gateway recorded at create; of a bulk session, only
the destination its bulk request names), and which protection unit each restore point
belongs to. Every lookup is bounded in time; one that fails
refuses the call (FactsUnavailable), it never counts as allowed, and so do contents no
one can know (Denied); Graph's 404 for the session is passed on as Graph's answer."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.bounded import BoundedMap, gather_bounded
from graphrestore_gateway.exceptions import Denied, FactsUnavailable
from graphrestore_gateway.graph.client import GraphAnswer, GraphClient
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import GraphError
from graphrestore_gateway.records.holdings import Holdings, read_held
from graphrestore_gateway.records.store import RequestStore
from graphrestore_gateway.restore import convert, session_convert
from graphrestore_gateway.restore.drive_units import DriveDirectory, DriveUnits
from graphrestore_gateway.restore.page_tokens import MAX_PAGE_SIZE, continuation, page_query

LOOKUP_S = 10.0
LOOKUPS_IN_FLIGHT = 8
# A restore point's unit never changes: remember this many in the process.
CACHED_UNITS = 100_000
# Graph's "no such restore point" is remembered this long, for this many points (UnitCache).
UNKNOWN_POINT_FOR_S = 60.0
CACHED_UNKNOWN_POINTS = 10_000
DEFAULT_RETRY_S = 1.0


class UnitCache:
    """Restore point id -> protection unit id, for every call of the process: its most
    recent answers, in front of the request store's (shared by the replicas on Redis;
    none on SQLite, one replica). A point's unit is asked of Graph once per gateway.

    Graph's "no such point" (400, 404) is remembered too, for UNKNOWN_POINT_FOR_S, in
    the process only: were it not, a refusal naming another unit's point would cost no
    Graph call once known and one naming no point always one, and a bound caller would
    learn from the cost which restore points exist. Past that time the miss is asked
    again (a point Graph had not yet shown may have appeared): a prober waits that long
    per point, its refusals charged to its refused-call budget."""

    def __init__(self, store: RequestStore, clock: Callable[[], float] = time.monotonic) -> None:
        self._recent = BoundedMap(CACHED_UNITS)
        # Restore point id -> when Graph's "no such point" is to be asked again.
        self._missing: OrderedDict[str, float] = OrderedDict()
        self._store = store
        self._clock = clock

    async def known(self, restore_point_ids: list[str]) -> dict[str, str]:
        """The unit of each point this gateway has learned ("" for one Graph recently
        said does not exist)."""
        found = {p: u for p in restore_point_ids if (u := self._recent.get(p)) is not None}
        now = self._clock()
        for point_id in restore_point_ids:
            if self._missing.get(point_id, now) > now:
                found.setdefault(point_id, "")
        missing = [p for p in restore_point_ids if p not in found]
        if missing:
            shared = await self._store.known_units(missing)
            for point_id, unit_id in shared.items():
                self._recent.put(point_id, unit_id)
            found.update(shared)
        return found

    async def learned(self, units: dict[str, str], unknown: list[str]) -> None:
        """Remember units Graph just told, and the points it said do not exist."""
        for point_id, unit_id in units.items():
            self._recent.put(point_id, unit_id)
        if units:
            await self._store.remember_units(units)
        until = self._clock() + UNKNOWN_POINT_FOR_S
        for point_id in unknown:
            self._missing[point_id] = until
            self._missing.move_to_end(point_id)
            if len(self._missing) > CACHED_UNKNOWN_POINTS:
                self._missing.popitem(last=False)


def _contents_unknown(why: str) -> Denied:
    return Denied(
        f"{why}: only a caller without destination and protection unit limits may change it",
        "SESSION_CONTENTS_UNKNOWN",
    )


def _unavailable(what: str, error: GraphError) -> FactsUnavailable:
    return FactsUnavailable(
        f"the policy needs {what} from Graph, which failed ({error.code}); try again",
        error.retry_after_s or DEFAULT_RETRY_S,
    )


class GraphFacts:
    """Lookups for one call, charged to its caller through `graph` (a view of the
    workload whose artifacts are `artifact_type`)."""

    def __init__(
        self,
        graph: GraphClient,
        artifact_type: type[Any],
        units: UnitCache,
        drives: DriveDirectory,
        deadline: Deadline,
    ) -> None:
        self._graph = graph
        self._artifact_type = artifact_type
        self._units = units
        remaining = deadline.remaining_s()
        self._deadline = Deadline.after(LOOKUP_S if remaining is None else min(LOOKUP_S, remaining))
        self._drives = DriveUnits(graph, drives, self._deadline)
        self._sessions: dict[str, Any] = {}

    async def _session(self, session_id: str, fresh: bool = False) -> Any:
        """The session as Graph shows it (asked once per call, unless `fresh`)."""
        if session_id in self._sessions and not fresh:
            return self._sessions[session_id]
        try:
            answer = await self._graph.get_restore_session(session_id, self._deadline)
        except GraphError as error:
            if error.http_status == 404:
                raise  # Graph's own answer: the session does not exist
            raise _unavailable("the session's size", error) from None
        session = session_convert.restore_session_from_graph(answer.body)
        self._sessions[session_id] = session
        return session

    async def session_size(self, session_id: str, fresh: bool = False) -> int:
        """Artifacts the session holds (asked of Graph once per call, unless `fresh`)."""
        session = await self._session(session_id, fresh)
        return int(session.restore_session_artifact_count.total)

    async def holdings(
        self,
        session_id: str,
        recorded: Holdings | None,
        held: list[str] | None,
        checks_units: bool,
    ) -> tuple[frozenset[int], list[str]]:
        """(destination types, restore point ids) of every artifact the session holds: of
        a granular session the gateway made, what it `recorded` at create; of a bulk
        session, the destination its bulk request names (see _bulk_destinations); of a
        plain one, what the gateway `held` (records/holdings.py) when it counts as many
        artifacts as Graph does; of any other, what Graph lists. When none can tell
        (Graph lists fewer artifacts than the session counts: granular ones of a session
        made outside the gateway), the call is refused, as a failed lookup is: only a
        caller whose rule has no destination and no unit limits asks for none of this."""
        if recorded is not None and recorded.restore_point_ids:
            return frozenset(recorded.destinations), list(recorded.restore_point_ids)
        bulk_destinations = await self._bulk_destinations(session_id)
        if bulk_destinations is not None:
            if checks_units or not bulk_destinations or 0 in bulk_destinations:
                raise _contents_unknown(
                    "the session is filled by a bulk request, whose restore points Graph "
                    "picks and does not name until it has resolved them"
                )
            return bulk_destinations, []
        known = read_held(held)
        if known is not None and len(known[1]) == await self.session_size(session_id):
            return known
        destinations: set[int] = set()
        points: list[str] = []
        options: dict[str, str] = {}
        while True:
            answer = await self._artifacts_page(session_id, page_query(MAX_PAGE_SIZE, options))
            for artifact in convert.collection(
                answer.body,
                lambda item: session_convert.artifact_from_graph(self._artifact_type, item),
            ):
                destinations.add(artifact.destination_type)
                points.append(artifact.restore_point.id)
            options = continuation(answer.body.get("@odata.nextLink"))
            if not options:
                break
        if len(points) < await self.session_size(session_id):
            raise _contents_unknown(
                "the session holds artifacts Graph does not list and the gateway did not "
                "record (granular, made outside the gateway)"
            )
        return frozenset(destinations), points

    async def _bulk_destinations(self, session_id: str) -> frozenset[int] | None:
        """The destination type each of the session's bulk requests names (0 for one Graph
        does not give); None for a session with no bulk request. Graph resolves a bulk
        request in the background: until then the session counts and lists no artifact,
        and after it holds the drives, sites or mailboxes the request named, as restore
        points Graph picked. Graph's answer does not say which (its documented answers
        list none of the drives asked for, and protectionUnitIds is not implemented), nor
        whether it has resolved (`active` until the session is activated): the units a
        bulk session holds are unknown until it runs. Asked of Graph for a session
        marked bulk, and for an empty one (where Graph may not have marked it yet)."""
        session = await self._session(session_id)
        is_bulk = session.restore_job_type == pb.RESTORE_JOB_TYPE_BULK
        if not is_bulk and session.restore_session_artifact_count.total:
            return None
        requests: list[dict[str, Any]] = []
        next_link = ""
        while True:
            try:
                answer = await self._graph.list_bulk_addition_requests(
                    session_id, next_link, self._deadline
                )
            except GraphError as error:
                if error.http_status == 404:
                    raise
                raise _unavailable("the session's bulk requests", error) from None
            requests += convert.collection(answer.body, dict)
            next_link = str(answer.body.get("@odata.nextLink") or "")
            if not next_link:
                break
        if not is_bulk and not requests:
            return None
        return frozenset(
            int(convert.enum_from_graph(pb.DestinationType, r.get("destinationType")))
            for r in requests
        )

    async def browse_sessions_held(self, session_id: str) -> list[str]:
        """The browse session of each file and folder a granular session holds, as Graph
        lists them (it lists a granular drive or site session's items, as they change)."""
        held: list[str] = []
        options: dict[str, str] = {}
        while True:
            try:
                answer = await self._graph.list_granular_artifacts(
                    session_id, options, self._deadline
                )
            except GraphError as error:
                if error.http_status == 404:
                    raise
                raise _unavailable("what the session holds", error) from None
            held += [
                str(item.get("browseSessionId", ""))
                for item in convert.collection(answer.body, dict)
            ]
            options = continuation(answer.body.get("@odata.nextLink"))
            if not options:
                return list(dict.fromkeys(held))

    async def _artifacts_page(self, session_id: str, query: dict[str, str]) -> GraphAnswer:
        try:
            return await self._graph.list_restore_artifacts(session_id, query, self._deadline)
        except GraphError as error:
            if error.http_status == 404:
                raise
            raise _unavailable("what the session holds", error) from None

    async def units_of(self, restore_point_ids: list[str]) -> list[str]:
        """The protection unit of each restore point ("" for one Graph does not know)."""

        learned: dict[str, str] = {}
        nowhere: list[str] = []

        async def look_up(point_id: str) -> None:
            try:
                answer = await self._graph.get_protection_unit_of(point_id, self._deadline)
            except GraphError as error:
                if error.http_status in (400, 404):
                    nowhere.append(point_id)
                    return
                raise _unavailable("restore points' protection units", error) from None
            unit_id = answer.body.get("id")
            if isinstance(unit_id, str):
                learned[point_id] = unit_id

        unique = list(dict.fromkeys(restore_point_ids))
        # "" is a point no one recorded (a browse session made outside the gateway): its
        # unit is unknown without asking Graph.
        known = await self._units.known([p for p in unique if p])
        unknown = [p for p in unique if p and p not in known]
        await gather_bounded(unknown, look_up, LOOKUPS_IN_FLIGHT)
        await self._units.learned(learned, nowhere)
        known.update(learned)
        return [known.get(p, "") for p in unique]

    async def units_of_users(self, directory_object_ids: list[str]) -> list[str]:
        """The unit of each user's drive ("" for a user with no protected drive)."""
        try:
            return await self._drives.unit_ids(directory_object_ids)
        except GraphError as error:
            raise _unavailable("the protection units of the users named", error) from None
