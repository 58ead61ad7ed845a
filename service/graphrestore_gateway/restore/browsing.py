"""The browse methods of the OneDrive and SharePoint services: browse sessions (create,
get, list), browse, and granular sessions of the files and folders picked (create, list
their items). Admitted by the pipeline first: validated, the browse sessions named the
caller's (rpc/pipeline.py, restore/browse_grants.py), their units the caller's."""

from __future__ import annotations

import logging
from typing import Any

from google.protobuf import message_factory
from google.rpc.error_details_pb2 import BadRequest
from graphrestore.v1 import browse_session_pb2 as browse_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.bounded import gather_bounded
from graphrestore_gateway.exceptions import (
    BrowseSessionExpired,
    InvalidRequest,
)
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.graph.errors import GraphError
from graphrestore_gateway.records.holdings import UNKNOWN_HELD, Holdings
from graphrestore_gateway.records.store import RequestStore, session_key
from graphrestore_gateway.restore import (
    browse_convert,
    browse_reconcile,
    convert,
    session_convert,
    site_lookup,
)
from graphrestore_gateway.restore.browse_grants import (
    BrowseGrants,
    browse_holdings,
    browse_key,
)
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.restore.page_tokens import BadPageToken, PageTokens, continuation
from graphrestore_gateway.restore.session_filler import (
    Claimant,
    SessionFiller,
    refuse_if_claimed,
)
from graphrestore_gateway.restore.workloads import Workload

log = logging.getLogger(__name__)
# Browse sessions looked at in flight when a granular create is refused.
LOOKUPS_IN_FLIGHT = 4


class Browsing:
    """The browse methods of a restore service (restore/service.py), for its workload."""

    def __init__(
        self,
        workload: Workload,
        graph: GraphClient,
        store: RequestStore,
        page_tokens: PageTokens,
    ) -> None:
        self.workload = workload
        self._graph = graph.of_workload(workload.sessions)
        self._store = store
        self._page_tokens = page_tokens
        self._grants = BrowseGrants(store)
        self._sites = site_lookup.SiteDirectory()

    def _graph_for(self, call: Call) -> GraphClient:
        return self._graph.on_behalf_of(call.caller, call.graph)

    def _continuation(self, call: Call, page_token: str, listing: str) -> dict[str, str]:
        """Graph's continuation a page token carries ({} for the first page)."""
        if not page_token:
            return {}
        try:
            query = self._page_tokens.query(0, page_token, call.caller, listing)
        except BadPageToken as exc:
            raise InvalidRequest(
                [BadRequest.FieldViolation(field="page_token", description=str(exc))]
            ) from None
        # No page size: Graph documents none for these lists.
        query.pop("$top", None)
        return query

    async def _expired_if_gone(
        self, error: GraphError, browse_session_id: str, call: Call, session_read: bool
    ) -> None:
        """Graph's 404 for a browse session the gateway made, when the session itself is
        gone: it expired (Graph deletes them at expiry); FAILED_PRECONDITION telling the
        caller to browse again. A browse's 404 may be its location only (an item key the
        session does not hold): the session is read to tell the two apart."""
        if error.http_status != 404 or not await self._grants.is_recorded(
            self.workload, browse_session_id
        ):
            return
        if not session_read:
            try:
                await self._graph_for(call).get_browse_session(browse_session_id, call.deadline)
                return  # the session is there: the 404 was the location's
            except GraphError as gone:
                if gone.http_status != 404:
                    return
        raise BrowseSessionExpired(browse_session_id) from None

    async def find_site_protection_unit(self, request: Any, call: Call) -> Any:
        """The unit of a site named by URL, to browse it (restore/site_lookup.py)."""
        return await self._sites.find(self._graph_for(call), request, call)

    async def create_browse_session(
        self, request: service_pb.CreateBrowseSessionRequest, call: Call
    ) -> browse_pb.BrowseSession:
        point_id = request.restore_point_id
        graph = self._graph_for(call)
        if call.reconcile_since is not None:
            found = await self._adopted(graph, call, point_id)
            if found is not None:
                return found
        answer = await graph.create_browse_session(point_id, call.deadline)
        session = browse_convert.browse_session_from_graph(answer.body, point_id)
        self._made(call, session.id, point_id)
        return session

    def _by_key(self, listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The browse sessions of a Graph list, by their ownership key."""
        return {
            browse_key(self.workload, str(body.get("id", ""))): body
            for body in convert.collection(listing, dict)
        }

    async def _adopted(
        self, graph: GraphClient, call: Call, point_id: str
    ) -> browse_pb.BrowseSession | None:
        """The browse session an interrupted create of this request made, if Graph has
        one (restore/browse_reconcile.py), recorded as the caller's; never one an earlier
        request still pending asked for (RECONCILIATION_CLAIMED)."""
        listed = self._by_key((await graph.list_browse_sessions({}, call.deadline)).body)
        owners = await self._store.owners_of(list(listed))
        held = await self._store.holdings_of(list(listed))
        found = await browse_reconcile.browse_session_made(
            graph, call, point_id, listed, owners, held
        )
        if found is None:
            return None
        key, body = found
        if key not in held:
            # Never one an earlier request still pending asked for (the same point).
            assert call.reconcile_since is not None
            await refuse_if_claimed(
                self._store.pending_asking,
                call.request_key,
                str(body.get("id", "")),
                self.workload.browse_session_contents_of(point_id),
                call.reconcile_since,
            )
            if not await self._store.claim_owner(key, call.caller):
                return None  # adopted by another caller's retry meanwhile: not ours
        session = browse_convert.browse_session_from_graph(body, point_id)
        self._made(call, session.id, point_id)
        log.warning(
            "reconciled: the interrupted create had made a browse session",
            extra={"fields": {"browse_session_id": session.id}},
        )
        return session

    def _made(self, call: Call, browse_session_id: str, point_id: str) -> None:
        key = browse_key(self.workload, browse_session_id)
        call.made.append(key)
        call.holdings[key] = browse_holdings(call.request_key, point_id)

    async def get_browse_session(
        self, request: service_pb.GetBrowseSessionRequest, call: Call
    ) -> browse_pb.BrowseSession:
        session_id = request.browse_session_id
        try:
            answer = await self._graph_for(call).get_browse_session(session_id, call.deadline)
        except GraphError as error:
            await self._expired_if_gone(error, session_id, call, session_read=True)
            raise
        point_id = call.browsed_points[0] if call.browsed_points else ""
        return browse_convert.browse_session_from_graph(answer.body, point_id)

    async def list_browse_sessions(
        self, request: service_pb.ListBrowseSessionsRequest, call: Call
    ) -> service_pb.ListBrowseSessionsResponse:
        """The workload's browse sessions, of this caller only unless it sees every
        session and is bound to no units (it would learn of other units' sessions), each
        with the restore point the gateway recorded for it."""
        listing = self.workload.scoped("browse-sessions")
        options = self._continuation(call, request.page_token, listing)
        answer = await self._graph_for(call).list_browse_sessions(options, call.deadline)
        bodies = self._by_key(answer.body)
        owners = await self._store.owners_of(list(bodies))
        if not call.sees_every_session or call.bound_to_units:
            bodies = {k: b for k, b in bodies.items() if owners.get(k) == call.caller}
        held = await self._store.holdings_of(list(bodies))
        return service_pb.ListBrowseSessionsResponse(
            browse_sessions=[
                browse_convert.browse_session_from_graph(body, _point_of(held.get(key)))
                for key, body in bodies.items()
            ],
            next_page_token=self._page_tokens.issue(
                answer.body.get("@odata.nextLink"), call.caller, listing
            ),
        )

    async def browse(
        self, request: service_pb.BrowseRequest, call: Call
    ) -> service_pb.BrowseResponse:
        """A page of items; a next page's token is bound to the caller, the browse
        session and the query (location, filter, order), so it continues only that."""
        session_id = request.browse_session_id
        body = browse_convert.browse_request_to_graph(request)
        listing = self.workload.scoped(f"browse:{session_id}:{sorted(body.items())}")
        options = self._continuation(call, request.page_token, listing)
        try:
            answer = await self._graph_for(call).browse(session_id, body, options, call.deadline)
        except GraphError as error:
            await self._expired_if_gone(error, session_id, call, session_read=False)
            raise
        return service_pb.BrowseResponse(
            items=convert.collection(answer.body, browse_convert.browse_item_from_graph),
            next_page_token=self._page_tokens.issue(
                answer.body.get("@odata.nextLink"), call.caller, listing
            ),
        )

    async def create_items_session(
        self, items: list[Any], call: Call, filler: SessionFiller, claimant: Claimant
    ) -> pb.RestoreSession:
        """A granular session of the files and folders picked (at most 50: one Graph
        call), recorded with the restore points of their browse sessions (Graph lists its
        items, but the policy reads what it holds from the record, as for any granular
        session). After an interrupted attempt, the session it made, if Graph has one. A
        refusal naming a browse session that has expired says so."""
        graph = self._graph_for(call)
        # Graph lists its items as they change: change RPCs read them there.
        holdings = Holdings(claimant.request_key, granular=True)
        if call.reconcile_since is not None:
            found = await browse_reconcile.items_session_made(
                graph, call, filler, claimant, self.workload, items
            )
            if found is not None:
                claimant.made(found.id, holdings)
                return found
        body = {
            self.workload.sessions.granular_artifacts: [
                browse_convert.new_granular_artifact_to_graph(item) for item in items
            ]
        }
        try:
            answer = await graph.create_restore_session(body, call.deadline)
        except GraphError as error:
            if error.http_status == 400:
                await self._name_expired(graph, call, items)
            raise
        session = session_convert.restore_session_from_graph(answer.body)
        claimant.made(session.id, holdings)
        return session

    async def add_browsed_items(self, request: Any, call: Call) -> Any:
        """Items added to a draft granular session, in one PATCH (at most 50). After an
        interrupted attempt, the items the session holds already are not sent again (Graph
        would refuse each as a duplicate): they are reported added."""
        items = list(getattr(request, self.workload.browsed_field))
        # Files and folders are not restore points: a plain session's record of what it
        # holds (records/holdings.py) cannot tell them.
        session = self.workload.scoped(session_key(request.restore_session_id))
        await self._store.record_held(session, [UNKNOWN_HELD])
        graph = self._graph_for(call)
        held: list[Any] = []
        if call.reconcile_since is not None:
            keys = await self._keys_held(graph, call, request.restore_session_id)
            held = [item for item in items if item.id in keys]
            items = [item for item in items if item.id not in keys]
        reported: list[tuple[Any, str]] = []
        if items:
            delta = [browse_convert.new_granular_artifact_to_graph(item) for item in items]
            try:
                reported = await self._patch(graph, call, request.restore_session_id, delta)
            except GraphError as error:
                if error.http_status == 400:
                    await self._name_expired(graph, call, items)
                raise
        return self._response_of(
            call,
            added=held + [item for item, kind in reported if kind == session_convert.ADDED],
            failed=[item for item, kind in reported if kind == session_convert.ADD_FAILED],
        )

    async def _keys_held(self, graph: GraphClient, call: Call, session_id: str) -> set[str]:
        """The item keys a granular session holds, as Graph lists them."""
        keys: set[str] = set()
        options: dict[str, str] = {}
        while True:
            answer = await graph.list_granular_artifacts(session_id, options, call.deadline)
            keys.update(str(item.get("id", "")) for item in convert.collection(answer.body, dict))
            options = continuation(answer.body.get("@odata.nextLink"))
            if not options:
                return keys

    async def remove_browsed_items(self, request: Any, call: Call) -> Any:
        """Items removed from a draft granular session, in one PATCH (at most 50)."""
        keys = list(getattr(request, self.workload.browsed_ids_field))
        delta = [{"@removed": {"reason": "changed"}, "id": key} for key in keys]
        graph = self._graph_for(call)
        reported = await self._patch(graph, call, request.restore_session_id, delta)
        failed = [item for item, kind in reported if kind == session_convert.REMOVE_FAILED]
        failed_keys = {item.id for item in failed}
        return self._response_of(
            call, removed_ids=[key for key in keys if key not in failed_keys], failed=failed
        )

    async def _patch(
        self, graph: GraphClient, call: Call, session_id: str, delta: list[dict[str, Any]]
    ) -> list[tuple[Any, str]]:
        """Each item of a granular PATCH's answer, with what it reports."""
        answer = await graph.update_granular_artifacts(session_id, delta, call.deadline)
        item_type = self.workload.browsed_type
        assert item_type is not None
        key = f"{self.workload.sessions.granular_artifacts}@delta"
        return [
            browse_convert.delta_item_from_graph(item_type, item)
            for item in answer.body.get(key) or []
        ]

    def _response_of(self, call: Call, **fields: Any) -> Any:
        """The response message of the RPC being served, with `fields`."""
        method = self.workload.service.methods_by_name[call.method]
        return message_factory.GetMessageClass(method.output_type)(**fields)

    async def _name_expired(self, graph: GraphClient, call: Call, items: list[Any]) -> None:
        """BrowseSessionExpired for the first browse session named that Graph no longer
        has (the gateway made every one: the pipeline checked)."""
        session_ids = list(dict.fromkeys(item.browse_session_id for item in items))

        async def gone(session_id: str) -> bool:
            try:
                await graph.get_browse_session(session_id, call.deadline)
            except GraphError as error:
                return error.http_status == 404
            return False

        found = await gather_bounded(session_ids, gone, LOOKUPS_IN_FLIGHT)
        for session_id, is_gone in zip(session_ids, found, strict=True):
            if is_gone:
                raise BrowseSessionExpired(session_id)

    async def list_browsed_items(self, request: Any, call: Call) -> Any:
        """A page of a granular session's items with where each was restored."""
        session_id = request.restore_session_id
        listing = self.workload.scoped(f"granular:{session_id}")
        options = self._continuation(call, request.page_token, listing)
        answer = await self._graph_for(call).list_granular_artifacts(
            session_id, options, call.deadline
        )
        item_type = self.workload.browsed_type
        assert item_type is not None
        return self._response_of(
            call,
            **{
                self.workload.browsed_field: convert.collection(
                    answer.body,
                    lambda item: browse_convert.granular_artifact_from_graph(item_type, item),
                )
            },
            next_page_token=self._page_tokens.issue(
                answer.body.get("@odata.nextLink"), call.caller, listing
            ),
        )


def _point_of(held: Holdings | None) -> str:
    return held.restore_point_ids[0] if held is not None and held.restore_point_ids else ""
