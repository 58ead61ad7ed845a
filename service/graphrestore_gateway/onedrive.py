"""The OneDriveRestoreService servicer: validate, call Graph, convert the answer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import grpc
from google.rpc.error_details_pb2 import BadRequest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway import convert, validation
from graphrestore_gateway.graph.client import GraphAnswer, GraphClient
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import GraphError
from graphrestore_gateway.rpc_status import bad_request_status, graph_error_status

log = logging.getLogger(__name__)
DEADLINE_MARGIN_S = 0.1


async def _reject_invalid(
    context: grpc.aio.ServicerContext[object, object],
    method: str,
    violations: list[BadRequest.FieldViolation],
) -> None:
    """Abort with INVALID_ARGUMENT when the request broke any rule."""
    if violations:
        log.info(
            "rpc rejected",
            extra={"fields": {"rpc": method, "violations": [v.field for v in violations]}},
        )
        await context.abort_with_status(bad_request_status(violations))


async def _call_graph(
    context: grpc.aio.ServicerContext[object, object],
    method: str,
    request_id: str,
    call: Callable[[Deadline], Awaitable[GraphAnswer]],
) -> GraphAnswer:
    """Run one Graph call under the caller's deadline; failures end the RPC with a mapped status."""
    started = time.monotonic()
    fields: dict[str, object] = {"rpc": method, "request_id": request_id}
    remaining = context.time_remaining()
    # Give up a little before the caller does, so our status (with details) still reaches it.
    deadline = Deadline.after(None if remaining is None else remaining - DEADLINE_MARGIN_S)
    try:
        answer = await call(deadline)
    except asyncio.CancelledError:
        fields.update(
            outcome="CANCELLED", duration_ms=round((time.monotonic() - started) * 1000, 1)
        )
        log.warning("rpc cancelled by the caller", extra={"fields": fields})
        raise
    except GraphError as error:
        status = graph_error_status(error)
        fields.update(
            outcome=status.code.name,
            graph_code=error.code,
            graph_request_id=error.request_id,
            client_request_id=error.client_request_id,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        log.warning("rpc failed", extra={"fields": fields})
        await context.abort_with_status(status)
        raise  # abort_with_status always raises; this keeps type checkers informed
    fields.update(
        outcome="OK",
        graph_request_id=answer.request_id,
        client_request_id=answer.client_request_id,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )
    log.info("rpc done", extra={"fields": fields})
    return answer


class OneDriveRestoreService(service_grpc.OneDriveRestoreServiceServicer):
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    async def CreateRestoreSession(
        self,
        request: service_pb.CreateRestoreSessionRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> pb.RestoreSession:
        method = "CreateRestoreSession"
        await _reject_invalid(context, method, validation.create_violations(request))
        if request.validate_only:
            return request.restore_session
        body = convert.create_session_body(request.restore_session)
        answer = await _call_graph(
            context,
            method,
            request.request_id,
            lambda deadline: self._graph.create_restore_session(body, deadline),
        )
        return convert.restore_session_from_graph(answer.body)
