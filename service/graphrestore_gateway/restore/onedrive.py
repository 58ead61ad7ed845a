"""The OneDriveRestoreService servicer: validate, call Graph, convert the answer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2
from google.protobuf.message import Message
from google.rpc.error_details_pb2 import BadRequest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway import logs
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import GraphError
from graphrestore_gateway.records.exactly_once import ExactlyOnce, StoredAnswer, Work
from graphrestore_gateway.restore import convert, page_tokens, validation
from graphrestore_gateway.restore.session_filler import SessionFiller, chunks
from graphrestore_gateway.restore.watch import SessionWatcher
from graphrestore_gateway.rpc.status import bad_request_status, graph_error_status

log = logging.getLogger(__name__)
DEADLINE_MARGIN_S = 0.1
# Graph searches this many protection units per call.
UNITS_PER_SEARCH = 20
SEARCHES_IN_FLIGHT = 4

Context = grpc.aio.ServicerContext[Any, Any]
T = TypeVar("T")
M = TypeVar("M", bound=Message)


async def _reject_invalid(context: Context, violations: list[BadRequest.FieldViolation]) -> None:
    """Abort with INVALID_ARGUMENT when the request broke any rule."""
    if violations:
        log.info("rpc rejected", extra={"fields": {"violations": [v.field for v in violations]}})
        await context.abort_with_status(bad_request_status(violations))


async def _run(
    context: Context,
    method: str,
    request_id: str,
    work: Callable[[Deadline], Awaitable[T]],
) -> T:
    """Run an RPC's Graph work under the caller's deadline, logged as one RPC; a
    GraphError ends the RPC with its mapped status."""
    logs.RPC_FIELDS.set({**logs.RPC_FIELDS.get(), "rpc": method, "request_id": request_id})
    started = time.monotonic()
    remaining = context.time_remaining()
    # Give up a little before the caller does, so our status (with details) still reaches it.
    deadline = Deadline.after(None if remaining is None else remaining - DEADLINE_MARGIN_S)

    def elapsed_ms() -> float:
        return round((time.monotonic() - started) * 1000, 1)

    try:
        result = await work(deadline)
    except StoredAnswer as stored:
        log.info(
            "rpc answered from the request record",
            extra={"fields": {"outcome": stored.status.code.name}},
        )
        await context.abort_with_status(stored.status)
        raise
    except asyncio.CancelledError:
        log.warning(
            "rpc cancelled", extra={"fields": {"outcome": "CANCELLED", "duration_ms": elapsed_ms()}}
        )
        raise
    except GraphError as error:
        status = graph_error_status(error)
        fields = {
            "outcome": status.code.name,
            "graph_code": error.code,
            "graph_request_id": error.request_id,
            "client_request_id": error.client_request_id,
            "duration_ms": elapsed_ms(),
        }
        log.warning("rpc failed", extra={"fields": fields})
        await context.abort_with_status(status)
        raise  # abort_with_status always raises; this keeps type checkers informed
    log.info("rpc done", extra={"fields": {"outcome": "OK", "duration_ms": elapsed_ms()}})
    return result


class OneDriveRestoreService(service_grpc.OneDriveRestoreServiceServicer):
    def __init__(
        self, graph: GraphClient, watcher: SessionWatcher, once: ExactlyOnce, app_id: str
    ) -> None:
        self._graph = graph
        self._watcher = watcher
        self._once = once
        self._sessions = SessionFiller(graph, app_id)

    async def _mutate(
        self, context: Context, method: str, request: Any, answer_type: type[M], work: Work[M]
    ) -> M:
        """A mutating RPC: at most once per request_id, every retry answered alike."""
        return await _run(
            context,
            method,
            request.request_id,
            lambda deadline: self._once.run(
                method, request.request_id, request, answer_type, work, deadline
            ),
        )

    async def CreateRestoreSession(
        self, request: service_pb.CreateRestoreSessionRequest, context: Context
    ) -> pb.RestoreSession:
        await _reject_invalid(context, validation.create_violations(request))
        if request.validate_only:
            return request.restore_session
        artifacts = list(request.restore_session.drive_restore_artifacts)
        return await self._mutate(
            context,
            "CreateRestoreSession",
            request,
            pb.RestoreSession,
            lambda deadline, since: self._sessions.create(artifacts, deadline, since),
        )

    async def GetRestoreSession(
        self, request: service_pb.GetRestoreSessionRequest, context: Context
    ) -> pb.RestoreSession:
        session_id = request.restore_session_id
        await _reject_invalid(context, validation.id_violations(session_id, "restore_session_id"))
        answer = await _run(
            context,
            "GetRestoreSession",
            "",
            lambda deadline: self._graph.get_restore_session(session_id, deadline),
        )
        return convert.restore_session_from_graph(answer.body)

    async def ListRestoreSessions(
        self, request: service_pb.ListRestoreSessionsRequest, context: Context
    ) -> service_pb.ListRestoreSessionsResponse:
        query = await _page_query(context, request.page_size, request.page_token)
        answer = await _run(
            context,
            "ListRestoreSessions",
            "",
            lambda deadline: self._graph.list_restore_sessions(query, deadline),
        )
        return service_pb.ListRestoreSessionsResponse(
            restore_sessions=convert.collection(answer.body, convert.restore_session_from_graph),
            next_page_token=page_tokens.page_token_from_next_link(
                answer.body.get("@odata.nextLink")
            ),
        )

    async def DeleteRestoreSession(
        self, request: service_pb.DeleteRestoreSessionRequest, context: Context
    ) -> empty_pb2.Empty:
        session_id = request.restore_session_id
        await _reject_invalid(
            context,
            validation.id_violations(session_id, "restore_session_id")
            + validation.request_id_violations(request.request_id),
        )

        async def delete(deadline: Deadline, since: float | None) -> empty_pb2.Empty:
            try:
                await self._graph.delete_restore_session(session_id, deadline)
            except GraphError as error:
                # An interrupted delete that went through: the session is gone, as asked.
                if not (since is not None and error.http_status == 404):
                    raise
            return empty_pb2.Empty()

        return await self._mutate(context, "DeleteRestoreSession", request, empty_pb2.Empty, delete)

    async def AddDriveRestoreArtifacts(
        self, request: service_pb.AddDriveRestoreArtifactsRequest, context: Context
    ) -> service_pb.AddDriveRestoreArtifactsResponse:
        session_id = request.restore_session_id
        artifacts = list(request.drive_restore_artifacts)
        await _reject_invalid(
            context,
            validation.id_violations(session_id, "restore_session_id")
            + validation.new_artifact_violations(artifacts, "drive_restore_artifacts")
            + validation.request_id_violations(request.request_id),
        )

        async def add(
            deadline: Deadline, since: float | None
        ) -> service_pb.AddDriveRestoreArtifactsResponse:
            added, refused = await self._sessions.add_artifacts(session_id, artifacts, deadline)
            return service_pb.AddDriveRestoreArtifactsResponse(added=added, failed=refused)

        return await self._mutate(
            context,
            "AddDriveRestoreArtifacts",
            request,
            service_pb.AddDriveRestoreArtifactsResponse,
            add,
        )

    async def RemoveDriveRestoreArtifacts(
        self, request: service_pb.RemoveDriveRestoreArtifactsRequest, context: Context
    ) -> service_pb.RemoveDriveRestoreArtifactsResponse:
        session_id = request.restore_session_id
        artifact_ids = list(request.drive_restore_artifact_ids)
        await _reject_invalid(
            context,
            validation.id_violations(session_id, "restore_session_id")
            + validation.id_list_violations(artifact_ids, "drive_restore_artifact_ids")
            + validation.request_id_violations(request.request_id),
        )

        async def remove(
            deadline: Deadline, since: float | None
        ) -> service_pb.RemoveDriveRestoreArtifactsResponse:
            removed, refused = await self._sessions.remove_artifacts(
                session_id, artifact_ids, deadline
            )
            return service_pb.RemoveDriveRestoreArtifactsResponse(
                removed_ids=removed, failed=refused
            )

        return await self._mutate(
            context,
            "RemoveDriveRestoreArtifacts",
            request,
            service_pb.RemoveDriveRestoreArtifactsResponse,
            remove,
        )

    async def ActivateRestoreSession(
        self, request: service_pb.ActivateRestoreSessionRequest, context: Context
    ) -> pb.RestoreSession:
        session_id = request.restore_session_id
        await _reject_invalid(
            context,
            validation.id_violations(session_id, "restore_session_id")
            + validation.request_id_violations(request.request_id),
        )

        async def activate(deadline: Deadline, since: float | None) -> pb.RestoreSession:
            if since is not None:
                # An interrupted activation that went through left the session past draft.
                session = await self._sessions.get(session_id, deadline)
                if session.status != pb.RESTORE_SESSION_STATUS_DRAFT:
                    return session
            answer = await self._graph.activate_restore_session(session_id, deadline)
            return convert.restore_session_from_graph(answer.body)

        return await self._mutate(
            context, "ActivateRestoreSession", request, pb.RestoreSession, activate
        )

    async def ListDriveRestoreArtifacts(
        self, request: service_pb.ListDriveRestoreArtifactsRequest, context: Context
    ) -> service_pb.ListDriveRestoreArtifactsResponse:
        session_id = request.restore_session_id
        await _reject_invalid(context, validation.id_violations(session_id, "restore_session_id"))
        query = await _page_query(context, request.page_size, request.page_token)
        answer = await _run(
            context,
            "ListDriveRestoreArtifacts",
            "",
            lambda deadline: self._graph.list_drive_restore_artifacts(session_id, query, deadline),
        )
        return service_pb.ListDriveRestoreArtifactsResponse(
            drive_restore_artifacts=convert.collection(
                answer.body, convert.drive_restore_artifact_from_graph
            ),
            next_page_token=page_tokens.page_token_from_next_link(
                answer.body.get("@odata.nextLink")
            ),
        )

    async def SearchRestorePoints(
        self, request: service_pb.SearchRestorePointsRequest, context: Context
    ) -> service_pb.SearchRestorePointsResponse:
        await _reject_invalid(context, validation.search_violations(request))
        unit_ids = list(dict.fromkeys(request.protection_unit_ids))
        slots = asyncio.Semaphore(SEARCHES_IN_FLIGHT)

        async def search_chunk(chunk: list[str], deadline: Deadline) -> dict[str, Any]:
            body = convert.search_request_to_graph(
                chunk,
                request.protection_time_period,
                request.restore_point_preference,
                list(request.tags),
            )
            async with slots:
                return (await self._graph.search_restore_points(body, deadline)).body

        async def search(deadline: Deadline) -> service_pb.SearchRestorePointsResponse:
            answers = await asyncio.gather(
                *(search_chunk(c, deadline) for c in chunks(unit_ids, UNITS_PER_SEARCH))
            )
            found = service_pb.SearchRestorePointsResponse()
            for answer in answers:
                found.search_results.extend(convert.search_results_from_graph(answer))
                found.no_result_protection_unit_ids.extend(
                    convert.strings_from_graph(answer.get("noResultProtectionUnitIds"))
                )
            return found

        return await _run(context, "SearchRestorePoints", "", search)

    async def CreateDriveRestoreArtifactsBulkAdditionRequest(
        self,
        request: service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest,
        context: Context,
    ) -> pb.DriveRestoreArtifactsBulkAdditionRequest:
        await _reject_invalid(context, validation.bulk_violations(request))
        body = convert.bulk_request_to_graph(request.bulk_addition_request)

        async def fill(
            deadline: Deadline, since: float | None
        ) -> pb.DriveRestoreArtifactsBulkAdditionRequest:
            if since is not None:
                found = await self._sessions.find_bulk_request(body, since, deadline)
                if found is not None:
                    return convert.bulk_request_from_graph(found[1], found[0])
            session_id = request.restore_session_id
            if not session_id:
                # An empty body makes an empty session, which a bulk request may fill.
                created = await self._graph.create_restore_session({}, deadline)
                session_id = str(created.body.get("id", ""))
            try:
                answer = await self._graph.create_bulk_addition_request(session_id, body, deadline)
            except GraphError as error:
                error.metadata["restore_session_id"] = session_id
                raise
            return convert.bulk_request_from_graph(answer.body, session_id)

        return await self._mutate(
            context,
            "CreateDriveRestoreArtifactsBulkAdditionRequest",
            request,
            pb.DriveRestoreArtifactsBulkAdditionRequest,
            fill,
        )

    async def GetDriveRestoreArtifactsBulkAdditionRequest(
        self,
        request: service_pb.GetDriveRestoreArtifactsBulkAdditionRequestRequest,
        context: Context,
    ) -> pb.DriveRestoreArtifactsBulkAdditionRequest:
        session_id, bulk_id = request.restore_session_id, request.bulk_addition_request_id
        await _reject_invalid(
            context,
            validation.id_violations(session_id, "restore_session_id")
            + validation.id_violations(bulk_id, "bulk_addition_request_id"),
        )
        answer = await _run(
            context,
            "GetDriveRestoreArtifactsBulkAdditionRequest",
            "",
            lambda deadline: self._graph.get_bulk_addition_request(session_id, bulk_id, deadline),
        )
        return convert.bulk_request_from_graph(answer.body, session_id)

    async def ListDriveRestoreArtifactsBulkAdditionRequests(
        self,
        request: service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsRequest,
        context: Context,
    ) -> service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsResponse:
        session_id = request.restore_session_id
        await _reject_invalid(context, validation.id_violations(session_id, "restore_session_id"))
        answer = await _run(
            context,
            "ListDriveRestoreArtifactsBulkAdditionRequests",
            "",
            lambda deadline: self._graph.list_bulk_addition_requests(session_id, deadline),
        )
        return service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsResponse(
            bulk_addition_requests=convert.collection(
                answer.body, lambda bulk: convert.bulk_request_from_graph(bulk, session_id)
            )
        )

    async def WatchRestoreSession(
        self, request: service_pb.WatchRestoreSessionRequest, context: Context
    ) -> AsyncIterator[pb.RestoreSession]:
        session_id = request.restore_session_id
        await _reject_invalid(context, validation.id_violations(session_id, "restore_session_id"))
        logs.RPC_FIELDS.set({**logs.RPC_FIELDS.get(), "restore_session_id": session_id})
        try:
            async for body in self._watcher.watch(session_id):
                yield convert.restore_session_from_graph(body)
        except GraphError as error:
            log.warning("watch failed", extra={"fields": {"graph_code": error.code}})
            await context.abort_with_status(graph_error_status(error))


async def _page_query(context: Context, page_size: int, page_token: str) -> dict[str, str]:
    await _reject_invalid(context, validation.page_size_violations(page_size))
    try:
        return page_tokens.query_for_page(page_size, page_token)
    except page_tokens.BadPageToken as exc:
        await _reject_invalid(
            context, [BadRequest.FieldViolation(field="page_token", description=str(exc))]
        )
        raise
