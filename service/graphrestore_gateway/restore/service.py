"""The restore services' methods, one class for the three workloads: call Graph for an
admitted call, convert the answer (the browse methods: restore/browsing.py). The
pipeline (rpc/pipeline.py) has identified, validated and authorized the call first;
rpc/methods.py maps each workload's RPC names onto these methods."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from google.protobuf import empty_pb2
from google.rpc.error_details_pb2 import BadRequest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.bounded import gather_bounded
from graphrestore_gateway.exceptions import InvalidRequest, SessionNotFound
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.graph.errors import GraphError
from graphrestore_gateway.records.holdings import UNKNOWN_HELD, Holdings, held_item
from graphrestore_gateway.records.store import RequestStore, session_key
from graphrestore_gateway.restore import bulk_convert, convert, session_convert
from graphrestore_gateway.restore.browsing import Browsing
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.restore.drive_units import DriveDirectory, DriveUnits
from graphrestore_gateway.restore.page_tokens import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    BadPageToken,
    PageTokens,
    continuation,
    page_query,
)
from graphrestore_gateway.restore.searches import SearchGrants
from graphrestore_gateway.restore.session_filler import Claimant, SessionFiller, chunks
from graphrestore_gateway.restore.watch import SessionWatcher
from graphrestore_gateway.restore.workloads import Workload

log = logging.getLogger(__name__)
# Graph searches this many protection units per call.
UNITS_PER_SEARCH = 20
SEARCHES_IN_FLIGHT = 4
# Graph pages (of MAX_PAGE_SIZE sessions) one list call reads at most (see list_sessions).
GRAPH_PAGES_PER_LIST = 10


class RestoreService(Browsing):
    def __init__(
        self,
        workload: Workload,
        graph: GraphClient,
        watcher: SessionWatcher,
        store: RequestStore,
        page_tokens: PageTokens,
        drives: DriveDirectory,
    ) -> None:
        super().__init__(workload, graph, store, page_tokens)
        self._watcher = watcher
        self._drives = drives
        self._searches = SearchGrants(store)

    def _key(self, session_id: str) -> str:
        return self.workload.scoped(session_key(session_id))

    def _filler(self, call: Call) -> SessionFiller:
        return SessionFiller(self._graph_for(call), self.workload, self._claimant(call))

    def _claimant(self, call: Call) -> Claimant:
        """How a call's made or adopted sessions are recorded as its caller's."""

        async def claim(session_id: str) -> bool:
            call.restore_session_id = session_id
            return await self._store.claim_owner(self._key(session_id), call.caller)

        def made(session_id: str, holdings: Holdings) -> None:
            call.restore_session_id = session_id
            key = self._key(session_id)
            call.made.append(key)
            call.holdings[key] = holdings

        async def recorded(
            session_ids: list[str],
        ) -> tuple[dict[str, str], dict[str, Holdings]]:
            keys = {self._key(session_id): session_id for session_id in session_ids}
            owners = await self._store.owners_of(list(keys))
            holdings = await self._store.holdings_of(list(keys))
            return (
                {keys[key]: owner for key, owner in owners.items()},
                {keys[key]: held for key, held in holdings.items()},
            )

        async def keep(session_id: str) -> None:
            key = self._key(session_id)
            held = call.holdings.get(key)
            owned = self._store.record_owners({key: call.caller}, {key: held} if held else {})
            if not call.request_key:
                return await owned
            await asyncio.gather(self._store.record_made(call.request_key, session_id), owned)

        return Claimant(
            call.request_key, claim, made, recorded, pending=self._store.pending_asking, keep=keep
        )

    def _page_query(self, call: Call, page_size: int, page_token: str, listing: str) -> Any:
        options, _ = self._page_position(call, page_token, listing)
        return page_query(page_size, options)

    def _page_position(
        self, call: Call, page_token: str, listing: str
    ) -> tuple[dict[str, str], int]:
        try:
            return self._page_tokens.position(page_token, call.caller, listing)
        except BadPageToken as exc:
            raise InvalidRequest(
                [BadRequest.FieldViolation(field="page_token", description=str(exc))]
            ) from None

    async def create_session(
        self, request: service_pb.CreateRestoreSessionRequest, call: Call
    ) -> pb.RestoreSession:
        if request.validate_only:
            return request.restore_session
        session = request.restore_session
        field = self.workload.created_field(session)
        if field == self.workload.browsed_field:
            return await self.create_items_session(
                list(getattr(session, field)), call, self._filler(call), self._claimant(call)
            )
        artifacts = list(getattr(session, field))
        granular = field == self.workload.granular_field
        created = await self._filler(call).create(
            artifacts,
            call.deadline,
            call.reconcile_since,
            granular=granular,
            made_id=call.reconciled_session_id,
        )
        if not granular:
            await self._store.record_held(self._key(created.id), _held(artifacts), first=True)
        return created

    async def get_session(
        self, request: service_pb.GetRestoreSessionRequest, call: Call
    ) -> pb.RestoreSession:
        graph = self._graph_for(call)
        answer = await graph.get_restore_session(request.restore_session_id, call.deadline)
        return session_convert.restore_session_from_graph(answer.body)

    async def list_sessions(
        self, request: service_pb.ListRestoreSessionsRequest, call: Call
    ) -> service_pb.ListRestoreSessionsResponse:
        """The caller's page, filled from Graph's list read in pages of MAX_PAGE_SIZE
        (Graph's list holds other workloads' and other callers' sessions too), at most
        GRAPH_PAGES_PER_LIST of them per call, so that what a call costs is bounded by
        Graph pages of sessions, never by the sessions in the tenant. A page filled
        inside a Graph page ends with a token that resumes there (the continuation that
        Graph page was asked with, and how far into it the caller has been). A page is
        never answered empty with a next token, save when the bound is reached before
        any session the caller may see (AIP-158 allows it: the bound wins)."""
        listing = self.workload.scoped("sessions")
        options, skip = self._page_position(call, request.page_token, listing)
        page_size = request.page_size or DEFAULT_PAGE_SIZE
        graph = self._graph_for(call)
        sessions: list[pb.RestoreSession] = []
        next_page_token = ""
        for graph_pages in range(1, GRAPH_PAGES_PER_LIST + 1):
            answer = await graph.list_restore_sessions(
                page_query(MAX_PAGE_SIZE, options), call.deadline
            )
            found = [(i, s) for i, s in await self._visible(call, answer.body) if i >= skip]
            room = page_size - len(sessions)
            if len(found) > room:
                last_index = found[room - 1][0]
                sessions += [session for _, session in found[:room]]
                next_page_token = self._page_tokens.issue_within(
                    options, last_index + 1, call.caller, listing
                )
                break
            sessions += [session for _, session in found]
            options, skip = continuation(answer.body.get("@odata.nextLink")), 0
            if not options:
                break
            if len(sessions) == page_size or graph_pages == GRAPH_PAGES_PER_LIST:
                next_page_token = self._page_tokens.issue_within(options, 0, call.caller, listing)
                break
        return service_pb.ListRestoreSessionsResponse(
            restore_sessions=sessions, next_page_token=next_page_token
        )

    async def _visible(
        self, call: Call, page: dict[str, Any]
    ) -> list[tuple[int, pb.RestoreSession]]:
        """The sessions of a Graph page that are this workload's and the caller's to see,
        each with its place in the page."""
        sessions = [
            (index, session_convert.restore_session_from_graph(body))
            for index, body in enumerate(convert.collection(page, dict))
            if self._is_ours(body)
        ]
        if call.sees_every_session:
            return sessions
        owners = await self._store.owners_of([self._key(s.id) for _, s in sessions])
        return [(i, s) for i, s in sessions if owners.get(self._key(s.id)) == call.caller]

    def _is_ours(self, session: dict[str, Any]) -> bool:
        """Whether a session body is this workload's: on OneDrive's own list a body
        without @odata.type is taken as the entity set's own type."""
        sessions = self.workload.sessions
        if sessions.reads_own_set and "@odata.type" not in session:
            return True
        return sessions.holds(session)

    async def _require_ours(self, call: Call, session_id: str) -> None:
        """restoreSessions/{id}, where activate and delete live, holds every workload's
        sessions: act only on one of this workload. A session the caller owns was made
        through this service's create, so it needs no look; nor does any session the
        gateway recorded as made under this workload (its owner key is the workload's)."""
        if not call.sees_every_session:
            return
        key = self._key(session_id)
        if key in await self._store.owners_of([key]):
            return
        answer = await self._graph_for(call).get_any_restore_session(session_id, call.deadline)
        if not self.workload.sessions.holds(answer.body):
            raise SessionNotFound(f"NOT_A_{self.workload.name.upper()}_SESSION")

    async def delete_session(
        self, request: service_pb.DeleteRestoreSessionRequest, call: Call
    ) -> empty_pb2.Empty:
        try:
            await self._require_ours(call, request.restore_session_id)
            await self._graph_for(call).delete_restore_session(
                request.restore_session_id, call.deadline
            )
        except GraphError as error:
            # An interrupted delete that went through: the session is gone, as asked.
            if not (call.reconcile_since is not None and error.http_status == 404):
                raise
        return empty_pb2.Empty()

    async def add_artifacts(self, request: Any, call: Call) -> Any:
        artifacts = self.workload.artifacts_of(request)
        # Recorded before Graph has them: the record is never less than the session.
        await self._store.record_held(self._key(request.restore_session_id), _held(artifacts))
        added, refused = await self._filler(call).add_artifacts(
            request.restore_session_id, artifacts, call.deadline
        )
        return self._response_of(call, added=added, failed=refused)

    async def remove_artifacts(self, request: Any, call: Call) -> Any:
        ids = list(getattr(request, self.workload.artifact_ids_field))
        # Graph removes by artifact id and never says which restore points went.
        await self._store.record_held(self._key(request.restore_session_id), [UNKNOWN_HELD])
        removed, refused = await self._filler(call).remove_artifacts(
            request.restore_session_id, ids, call.deadline
        )
        return self._response_of(call, removed_ids=removed, failed=refused)

    async def activate_session(
        self, request: service_pb.ActivateRestoreSessionRequest, call: Call
    ) -> pb.RestoreSession:
        session_id = request.restore_session_id
        filler = self._filler(call)
        await self._require_ours(call, session_id)
        if call.reconcile_since is not None:
            # An interrupted activation that went through left the session past draft.
            session = await filler.get(session_id, call.deadline)
            if session.status != pb.RESTORE_SESSION_STATUS_DRAFT:
                return session
        answer = await self._graph_for(call).activate_restore_session(session_id, call.deadline)
        return session_convert.restore_session_from_graph(answer.body)

    async def list_artifacts(self, request: Any, call: Call) -> Any:
        session_id = request.restore_session_id
        listing = self.workload.scoped(f"artifacts:{session_id}")
        query = self._page_query(call, request.page_size, request.page_token, listing)
        answer = await self._graph_for(call).list_restore_artifacts(
            session_id, query, call.deadline
        )
        artifact_type = self.workload.artifact_type
        return self._response_of(
            call,
            **{
                self.workload.artifact_field: convert.collection(
                    answer.body,
                    lambda item: session_convert.artifact_from_graph(artifact_type, item),
                )
            },
            next_page_token=self._page_tokens.issue(
                answer.body.get("@odata.nextLink"), call.caller, listing
            ),
        )

    async def search_restore_points(
        self, request: service_pb.SearchRestorePointsRequest, call: Call
    ) -> service_pb.SearchRestorePointsResponse:
        unit_ids = list(dict.fromkeys(request.protection_unit_ids))
        graph = self._graph_for(call)
        query = request.artifact_query if request.HasField("artifact_query") else None

        async def search_chunk(chunk: list[str]) -> dict[str, Any]:
            body = bulk_convert.search_request_to_graph(
                chunk,
                request.protection_time_period,
                request.restore_point_preference,
                list(request.tags),
                query,
            )
            return (await graph.search_restore_points(body, call.deadline)).body

        answers = await gather_bounded(
            chunks(unit_ids, UNITS_PER_SEARCH), search_chunk, SEARCHES_IN_FLIGHT
        )
        found = service_pb.SearchRestorePointsResponse()
        for answer in answers:
            found.search_results.extend(bulk_convert.search_results_from_graph(answer))
            found.no_result_protection_unit_ids.extend(
                convert.strings_from_graph(answer.get("noResultProtectionUnitIds"))
            )
        if len(answers) == 1:
            search_id = answers[0].get("searchResponseId")
            found.search_response_id = search_id if isinstance(search_id, str) else ""
        if query is not None and found.search_response_id:
            points = [result.restore_point.id for result in found.search_results]
            await self._searches.issued(
                self.workload, call.caller, found.search_response_id, points
            )
        return found

    async def create_bulk(self, request: Any, call: Call) -> Any:
        filler = self._filler(call)
        graph = self._graph_for(call)
        body = await self._bulk_body(request.bulk_addition_request, graph, call)
        if request.validate_only:
            return request.bulk_addition_request
        bulk_type = self.workload.bulk_type
        session_id = request.restore_session_id
        made_session = not session_id
        if call.reconcile_since is not None:
            found = await filler.find_bulk_request(
                body, session_id, call.reconcile_since, call.reconciled_session_id, call.deadline
            )
            if found is not None and found[1] is not None:
                return bulk_convert.bulk_request_from_graph(bulk_type, found[1], found[0])
            if found is not None:  # the attempt's session, its bulk request not made
                session_id = found[0]
        if not made_session:  # what a bulk request brings in, Graph resolves later
            await self._store.record_held(self._key(session_id), [UNKNOWN_HELD])
        if not session_id:
            session_id = await self._empty_session(filler, graph, call)
            filler.made(session_id)
            await filler.keep(session_id)
        try:
            answer = await graph.create_bulk_addition_request(session_id, body, call.deadline)
        except GraphError as error:
            if made_session and not error.may_have_applied:
                # Graph refused the request: leave no empty draft behind.
                with contextlib.suppress(GraphError):
                    await graph.delete_restore_session(session_id, call.deadline)
            else:
                error.metadata["restore_session_id"] = session_id
            raise
        bulk = bulk_convert.bulk_request_from_graph(bulk_type, answer.body, session_id)
        call.made.append(f"bulk:{bulk.id}")
        return bulk

    @staticmethod
    async def _empty_session(filler: SessionFiller, graph: GraphClient, call: Call) -> str:
        """A new empty session, which a bulk request may fill (an empty body makes one).
        Its create's answer lost, the lists are looked at across their lag first
        (SessionFiller.adopt_lost_draft): the draft Graph made is used, not left empty
        beside a second one; when they show Graph made none, the create is sent again
        at once rather than failing the call for the caller's retry."""
        sent_at = time.time()
        try:
            created = await graph.create_restore_session({}, call.deadline)
        except GraphError as error:
            answered_at = time.time()
            lost = None
            if error.may_have_applied:
                lost = await filler.adopt_lost_draft(sent_at, call.deadline)
            if lost is None:
                raise
            if lost:
                return lost
            # Graph made none: send it again, once its Retry-After (if any) has passed.
            wait_s = max(0.0, answered_at + (error.retry_after_s or 0.0) - time.time())
            if not call.deadline.allows(wait_s):
                raise
            await asyncio.sleep(wait_s)
            created = await graph.create_restore_session({}, call.deadline)
        return str(created.body.get("id", ""))

    async def _bulk_body(self, bulk: Any, graph: GraphClient, call: Call) -> dict[str, Any]:
        """Graph's bulk body, with drives named by protection unit sent as their owners'
        directory object ids (validation refused units for the other workloads)."""
        body = bulk_convert.bulk_request_to_graph(bulk)
        unit_ids = list(bulk.protection_unit_ids)
        if not unit_ids:
            return body
        found = await DriveUnits(graph, self._drives, call.deadline).directory_object_ids(unit_ids)
        unknown = [
            BadRequest.FieldViolation(
                field=f"bulk_addition_request.protection_unit_ids[{index}]",
                description="names no drive protection unit of the tenant",
            )
            for index, unit_id in enumerate(unit_ids)
            if unit_id not in found
        ]
        if unknown:
            raise InvalidRequest(unknown)
        named = [*body.get("directoryObjectIds", []), *found.values()]
        body["directoryObjectIds"] = list(dict.fromkeys(named))
        return body

    async def get_bulk(self, request: Any, call: Call) -> Any:
        session_id = request.restore_session_id
        answer = await self._graph_for(call).get_bulk_addition_request(
            session_id, request.bulk_addition_request_id, call.deadline
        )
        body = convert.single_from_graph(answer.body)
        return bulk_convert.bulk_request_from_graph(self.workload.bulk_type, body, session_id)

    async def list_bulk(self, request: Any, call: Call) -> Any:
        session_id = request.restore_session_id
        found = await self._filler(call).bulk_requests_of(session_id, call.deadline)
        bulk_type = self.workload.bulk_type
        return self._response_of(
            call,
            bulk_addition_requests=[
                bulk_convert.bulk_request_from_graph(bulk_type, b, session_id) for b in found
            ],
        )

    async def watch_session(
        self, request: service_pb.WatchRestoreSessionRequest, call: Call
    ) -> AsyncIterator[pb.RestoreSession]:
        async for body in self._watcher.watch(request.restore_session_id):
            yield session_convert.restore_session_from_graph(body)


def _held(artifacts: list[Any]) -> list[str]:
    return [held_item(a.restore_point.id, a.destination_type) for a in artifacts]
