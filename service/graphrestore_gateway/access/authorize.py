"""Authorization, decided in one place: what the policy lets a call do, the facts from
Graph its rule needs, and the room it reserves in a session for what it adds.

`Authorizer.admit` asks the policy alone (no Graph call), before the call's request
record is claimed; `Authorization.checked_against_graph` asks Graph the facts a change
needs, in each attempt, and holds the call's room in the session while the attempt runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.access.facts import GraphFacts, UnitCache
from graphrestore_gateway.access.policy import CallerRule
from graphrestore_gateway.access.policy_source import PolicySource
from graphrestore_gateway.exceptions import Denied, SessionNotFound
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.records.store import RequestStore, session_key
from graphrestore_gateway.restore.browse_grants import BrowseGrants
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.restore.drive_units import DriveDirectory
from graphrestore_gateway.restore.searches import SearchGrants
from graphrestore_gateway.restore.workloads import Workload


@dataclass(frozen=True)
class Asked:
    """What a call asks to do, as the policy reads it (from rpc/methods.py's table)."""

    workload: Workload
    method: str
    # The session it names ("" for none), and whether it changes that session.
    session_id: str
    changes_session: bool
    # The protection units a search names.
    searched_units: list[str]
    # The browse sessions it names, the restore points it browses, and whether it shows
    # the items of the session it names (rpc/methods.py's Method says what each means).
    browse_session_ids: list[str]
    browsed_restore_points: list[str]
    shows_items: bool
    # Whether it adds something to restore (its browse sessions must be the caller's).
    restoring: bool


class Authorizer:
    def __init__(
        self,
        policy: PolicySource,
        store: RequestStore,
        searches: SearchGrants,
        drives: DriveDirectory,
    ) -> None:
        self._policy = policy
        self._store = store
        self._searches = searches
        self._browse_grants = BrowseGrants(store)
        self._drives = drives
        self._units = UnitCache(store)

    async def admit(self, call: Call, asked: Asked) -> Authorization:
        """The policy's answer without Graph: the method, the session's owner, what the
        request adds (destinations, count, searches it names). Raises the refusal."""
        if asked.session_id:
            call.restore_session_id = asked.session_id
        policy = self._policy.current()
        if policy is None:  # GRAPHRESTORE_AUTH=none
            call.sees_every_session = True
            return Authorization(None, call, asked, self._store, self._units, self._drives)
        rule = policy.admit(call.caller, asked.workload.name, asked.method)
        call.sees_every_session = rule.sees_every_session
        call.bound_by_contents = rule.restricts_destinations or rule.restricts_units
        call.bound_to_units = rule.restricts_units
        call.own_units = rule.protection_unit_ids
        rule.check_units(call.caller, asked.searched_units, named=True)
        if asked.session_id and not rule.sees_every_session:
            key = asked.workload.scoped(session_key(asked.session_id))
            owners = await self._store.owners_of([key])
            if owners.get(key) != call.caller:
                raise SessionNotFound("SESSION_NOT_VISIBLE")
        if call.restores is not None:
            rule.check_restores(call.caller, call.restores, 0)
            await self._searches.check(asked.workload, call.caller, call.restores.searches)
        call.browsed_points = await self._browsed_points(rule, call, asked)
        return Authorization(rule, call, asked, self._store, self._units, self._drives)

    async def _browsed_points(self, rule: CallerRule, call: Call, asked: Asked) -> list[str]:
        """The restore points whose units the call reaches by browsing: the point a browse
        session is made on, those of the browse sessions named (the caller's own, see
        restore/browse_grants.py)."""
        points = list(asked.browsed_restore_points)
        if asked.browse_session_ids:
            points += await self._browse_grants.restore_points_of(
                asked.workload,
                call.caller,
                asked.browse_session_ids,
                restoring=asked.restoring,
                sees_every_session=rule.sees_every_session,
            )
        return points


@dataclass(frozen=True)
class Authorization:
    """A call the policy admitted: its caller's rule (None when no policy is configured)
    and what a change still needs checked against Graph."""

    rule: CallerRule | None
    call: Call
    asked: Asked
    store: RequestStore
    units: UnitCache
    drives: DriveDirectory

    async def check_browsed_units(self, graph: GraphClient) -> None:
        """The units of the restore points browsed (or restored from) are the caller's: a
        caller bound to units never learns another unit's file tree. Before a read; a
        change checks them with the rest of its facts."""
        rule, call = self.rule, self.call
        if rule is None or not rule.restricts_units:
            return
        facts = self._facts(graph)
        points = list(call.browsed_points)
        if self.asked.shows_items:
            points += await self._items_held(facts)
        if points:
            rule.check_units(call.caller, await facts.units_of(points))

    async def _items_held(self, facts: GraphFacts) -> list[str]:
        """The restore points of the files and folders a granular session holds: Graph
        lists them, each with its browse session, whose point the gateway recorded (""
        for one it did not make: unknown, refused)."""
        browse_session_ids = await facts.browse_sessions_held(self.asked.session_id)
        return await BrowseGrants(self.store).recorded_points(
            self.asked.workload, browse_session_ids
        )

    def _facts(self, graph: GraphClient) -> GraphFacts:
        return GraphFacts(
            graph, self.asked.workload.artifact_type, self.units, self.drives, self.call.deadline
        )

    @asynccontextmanager
    async def checked_against_graph(self, graph: GraphClient) -> AsyncIterator[None]:
        """The rules that need Graph (what the session holds, how full it is, which units
        the named restore points belong to; bounded, a failed lookup refuses), then the
        room for what the call adds, held until the attempt ends."""
        if self.rule is None:
            yield
            return
        reservation = await self._check(self.rule, graph)
        try:
            yield
        finally:
            if reservation:
                await self.store.release_reservation(self._session_key(), reservation)

    def _session_key(self) -> str:
        return self.asked.workload.scoped(session_key(self.asked.session_id))

    async def _check(self, rule: CallerRule, graph: GraphClient) -> str:
        """Raises the refusal; returns the reservation token ("" when none is needed)."""
        call, asked, restores = self.call, self.asked, self.call.restores
        await self.check_browsed_units(graph)
        facts = self._facts(graph)
        if asked.session_id and asked.changes_session and call.bound_by_contents:
            key = self._session_key()
            recorded = (await self.store.holdings_of([key])).get(key)
            if asked.workload.browses and recorded is not None and recorded.granular:
                # Files and folders: always to a new folder, from their browse sessions.
                destinations: frozenset[int] = frozenset({pb.DESTINATION_TYPE_NEW})
                points = await self._items_held(facts)
            else:
                held = await self.store.held_of(key)
                destinations, points = await facts.holdings(
                    asked.session_id, recorded, held, checks_units=rule.restricts_units
                )
            rule.check_destinations(call.caller, destinations)
            if rule.restricts_units:
                rule.check_units(call.caller, await facts.units_of(points))
        if restores is None:
            return ""
        if rule.restricts_units:
            rule.check_units(call.caller, list(restores.unit_ids), named=True)
            if restores.restore_point_ids:
                units = await facts.units_of(list(restores.restore_point_ids))
                rule.check_units(call.caller, units)
            if restores.directory_object_ids:
                users = await facts.units_of_users(list(restores.directory_object_ids))
                rule.check_units(call.caller, users)
        if not asked.session_id:
            return ""
        key = self._session_key()
        already = await facts.session_size(asked.session_id)
        rule.check_restores(call.caller, restores, already)
        token = await self.store.reserve(key, restores.count, rule.max_artifacts - already)
        # Another call's addition may have landed, and its room been released, between
        # the size read and this reservation: the size read again with the room held.
        if token and await facts.session_size(asked.session_id, fresh=True) != already:
            await self.store.release_reservation(key, token)
            token = None
        if token is None:
            raise Denied(
                f"other calls in flight are filling this session up to the caller's "
                f"{rule.max_artifacts} drives",
                "TOO_MANY_ARTIFACTS",
            )
        return token
