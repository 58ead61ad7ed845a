"""The OneDriveRestoreService methods: call Graph for an admitted call, convert the answer.
The pipeline (rpc/pipeline.py) has identified, validated and authorized the call first."""

from __future__ import annotations

import contextlib
import logging
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
from graphrestore_gateway.records.store import IdempotencyStore, session_key
from graphrestore_gateway.restore import convert
from graphrestore_gateway.restore.drive_units import DriveDirectory, DriveUnits
from graphrestore_gateway.restore.page_tokens import BadPageToken, PageTokens
from graphrestore_gateway.restore.session_filler import SessionFiller, chunks
from graphrestore_gateway.restore.watch import SessionWatcher
from graphrestore_gateway.rpc.call import Call

log = logging.getLogger(__name__)
# Graph searches this many protection units per call.
UNITS_PER_SEARCH = 20
SEARCHES_IN_FLIGHT = 4
ONEDRIVE_SESSION_TYPE = "#microsoft.graph.onedriveforbusinessrestoresession"


class OneDriveRestoreService:
    def __init__(
        self,
        graph: GraphClient,
        watcher: SessionWatcher,
        store: IdempotencyStore,
        page_tokens: PageTokens,
        drives: DriveDirectory,
    ) -> None:
        self._graph = graph
        self._watcher = watcher
        self._store = store
        self._page_tokens = page_tokens
        self._drives = drives

    def _graph_for(self, call: Call) -> GraphClient:
        return self._graph.on_behalf_of(call.caller, call.graph_request_ids)

    def _filler(self, call: Call) -> SessionFiller:
        async def claim(session_id: str) -> bool:
            call.restore_session_id = session_id
            return await self._store.claim_owner(session_key(session_id), call.caller)

        def made(session_id: str) -> None:
            call.restore_session_id = session_id
            call.made.append(session_key(session_id))

        return SessionFiller(self._graph_for(call), claim, made)

    def _page_query(self, call: Call, page_size: int, page_token: str, listing: str) -> Any:
        try:
            return self._page_tokens.query(page_size, page_token, call.caller, listing)
        except BadPageToken as exc:
            raise InvalidRequest(
                [BadRequest.FieldViolation(field="page_token", description=str(exc))]
            ) from None

    async def CreateRestoreSession(
        self, request: service_pb.CreateRestoreSessionRequest, call: Call
    ) -> pb.RestoreSession:
        if request.validate_only:
            return request.restore_session
        artifacts = list(request.restore_session.drive_restore_artifacts)
        since = call.reconcile_since
        return await self._filler(call).create(artifacts, call.deadline, since)

    async def GetRestoreSession(
        self, request: service_pb.GetRestoreSessionRequest, call: Call
    ) -> pb.RestoreSession:
        graph = self._graph_for(call)
        answer = await graph.get_restore_session(request.restore_session_id, call.deadline)
        return convert.restore_session_from_graph(answer.body)

    async def ListRestoreSessions(
        self, request: service_pb.ListRestoreSessionsRequest, call: Call
    ) -> service_pb.ListRestoreSessionsResponse:
        query = self._page_query(call, request.page_size, request.page_token, "sessions")
        answer = await self._graph_for(call).list_restore_sessions(query, call.deadline)
        sessions = [
            convert.restore_session_from_graph(body)
            for body in convert.collection(answer.body, dict)
            if _is_onedrive(body)
        ]
        if not call.sees_every_session:
            owners = await self._store.owners_of([session_key(s.id) for s in sessions])
            sessions = [s for s in sessions if owners.get(session_key(s.id)) == call.caller]
        return service_pb.ListRestoreSessionsResponse(
            restore_sessions=sessions,
            next_page_token=self._page_tokens.issue(
                answer.body.get("@odata.nextLink"), call.caller, "sessions"
            ),
        )

    async def _require_onedrive(self, call: Call, session_id: str) -> None:
        """restoreSessions/{id}, where activate and delete live, holds SharePoint and
        Exchange sessions too: act only on a OneDrive one. A session the caller owns was
        made through the gateway's OneDrive create, so it needs no look."""
        if not call.sees_every_session:
            return
        answer = await self._graph_for(call).get_any_restore_session(session_id, call.deadline)
        if "@odata.type" not in answer.body or not _is_onedrive(answer.body):
            raise SessionNotFound("NOT_A_ONEDRIVE_SESSION")

    async def DeleteRestoreSession(
        self, request: service_pb.DeleteRestoreSessionRequest, call: Call
    ) -> empty_pb2.Empty:
        try:
            await self._require_onedrive(call, request.restore_session_id)
            await self._graph_for(call).delete_restore_session(
                request.restore_session_id, call.deadline
            )
        except GraphError as error:
            # An interrupted delete that went through: the session is gone, as asked.
            if not (call.reconcile_since is not None and error.http_status == 404):
                raise
        return empty_pb2.Empty()

    async def AddDriveRestoreArtifacts(
        self, request: service_pb.AddDriveRestoreArtifactsRequest, call: Call
    ) -> service_pb.AddDriveRestoreArtifactsResponse:
        added, refused = await self._filler(call).add_artifacts(
            request.restore_session_id, list(request.drive_restore_artifacts), call.deadline
        )
        return service_pb.AddDriveRestoreArtifactsResponse(added=added, failed=refused)

    async def RemoveDriveRestoreArtifacts(
        self, request: service_pb.RemoveDriveRestoreArtifactsRequest, call: Call
    ) -> service_pb.RemoveDriveRestoreArtifactsResponse:
        removed, refused = await self._filler(call).remove_artifacts(
            request.restore_session_id, list(request.drive_restore_artifact_ids), call.deadline
        )
        return service_pb.RemoveDriveRestoreArtifactsResponse(removed_ids=removed, failed=refused)

    async def ActivateRestoreSession(
        self, request: service_pb.ActivateRestoreSessionRequest, call: Call
    ) -> pb.RestoreSession:
        session_id = request.restore_session_id
        filler = self._filler(call)
        await self._require_onedrive(call, session_id)
        if call.reconcile_since is not None:
            # An interrupted activation that went through left the session past draft.
            session = await filler.get(session_id, call.deadline)
            if session.status != pb.RESTORE_SESSION_STATUS_DRAFT:
                return session
        answer = await self._graph_for(call).activate_restore_session(session_id, call.deadline)
        return convert.restore_session_from_graph(answer.body)

    async def ListDriveRestoreArtifacts(
        self, request: service_pb.ListDriveRestoreArtifactsRequest, call: Call
    ) -> service_pb.ListDriveRestoreArtifactsResponse:
        session_id = request.restore_session_id
        listing = f"artifacts:{session_id}"
        query = self._page_query(call, request.page_size, request.page_token, listing)
        answer = await self._graph_for(call).list_drive_restore_artifacts(
            session_id, query, call.deadline
        )
        return service_pb.ListDriveRestoreArtifactsResponse(
            drive_restore_artifacts=convert.collection(
                answer.body, convert.drive_restore_artifact_from_graph
            ),
            next_page_token=self._page_tokens.issue(
                answer.body.get("@odata.nextLink"), call.caller, listing
            ),
        )

    async def SearchRestorePoints(
        self, request: service_pb.SearchRestorePointsRequest, call: Call
    ) -> service_pb.SearchRestorePointsResponse:
        unit_ids = list(dict.fromkeys(request.protection_unit_ids))
        graph = self._graph_for(call)

        async def search_chunk(chunk: list[str]) -> dict[str, Any]:
            body = convert.search_request_to_graph(
                chunk,
                request.protection_time_period,
                request.restore_point_preference,
                list(request.tags),
            )
            return (await graph.search_restore_points(body, call.deadline)).body

        answers = await gather_bounded(
            chunks(unit_ids, UNITS_PER_SEARCH), search_chunk, SEARCHES_IN_FLIGHT
        )
        found = service_pb.SearchRestorePointsResponse()
        for answer in answers:
            found.search_results.extend(convert.search_results_from_graph(answer))
            found.no_result_protection_unit_ids.extend(
                convert.strings_from_graph(answer.get("noResultProtectionUnitIds"))
            )
        return found

    async def CreateDriveRestoreArtifactsBulkAdditionRequest(
        self,
        request: service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest,
        call: Call,
    ) -> pb.DriveRestoreArtifactsBulkAdditionRequest:
        filler = self._filler(call)
        graph = self._graph_for(call)
        body = await self._bulk_body(request.bulk_addition_request, graph, call)
        if call.reconcile_since is not None:
            found = await filler.find_bulk_request(body, call.reconcile_since, call.deadline)
            if found is not None:
                return convert.bulk_request_from_graph(found[1], found[0])
        session_id = request.restore_session_id
        made_session = not session_id
        if made_session:
            # An empty body makes an empty session, which a bulk request may fill.
            created = await graph.create_restore_session({}, call.deadline)
            session_id = str(created.body.get("id", ""))
            filler.made(session_id)
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
        bulk = convert.bulk_request_from_graph(answer.body, session_id)
        call.made.append(f"bulk:{bulk.id}")
        return bulk

    async def _bulk_body(
        self,
        bulk: pb.DriveRestoreArtifactsBulkAdditionRequest,
        graph: GraphClient,
        call: Call,
    ) -> dict[str, Any]:
        """Graph's bulk body, with drives named by protection unit sent as their owners'
        directory object ids."""
        body = convert.bulk_request_to_graph(bulk)
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

    async def GetDriveRestoreArtifactsBulkAdditionRequest(
        self,
        request: service_pb.GetDriveRestoreArtifactsBulkAdditionRequestRequest,
        call: Call,
    ) -> pb.DriveRestoreArtifactsBulkAdditionRequest:
        session_id = request.restore_session_id
        answer = await self._graph_for(call).get_bulk_addition_request(
            session_id, request.bulk_addition_request_id, call.deadline
        )
        return convert.bulk_request_from_graph(answer.body, session_id)

    async def ListDriveRestoreArtifactsBulkAdditionRequests(
        self,
        request: service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsRequest,
        call: Call,
    ) -> service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsResponse:
        session_id = request.restore_session_id
        found = await self._filler(call).bulk_requests_of(session_id, call.deadline)
        return service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsResponse(
            bulk_addition_requests=[convert.bulk_request_from_graph(b, session_id) for b in found]
        )

    async def WatchRestoreSession(
        self, request: service_pb.WatchRestoreSessionRequest, call: Call
    ) -> AsyncIterator[pb.RestoreSession]:
        async for body in self._watcher.watch(request.restore_session_id):
            yield convert.restore_session_from_graph(body)


def _is_onedrive(session: dict[str, Any]) -> bool:
    """Whether a session body is a OneDrive one: a body without @odata.type is taken as
    the entity set's own type."""
    kind = session.get("@odata.type", ONEDRIVE_SESSION_TYPE)
    return isinstance(kind, str) and kind.lower() == ONEDRIVE_SESSION_TYPE
