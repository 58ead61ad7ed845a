"""The gate every RPC passes: who is calling (authentication), may they (policy), and
the audit record of what happened. A grpc.aio interceptor sees no peer, so it wraps each
method handler, where the servicer context is at hand."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from grpc_status import rpc_status

from graphrestore_gateway import logs, rpc_trace
from graphrestore_gateway.access.audit import AuditLog
from graphrestore_gateway.access.callers import Authenticator, Unauthenticated
from graphrestore_gateway.access.facts import GraphFacts
from graphrestore_gateway.access.policy import (
    Denied,
    PolicySource,
    adds_to_session,
    restore_point_ids,
)
from graphrestore_gateway.rpc.status import GATEWAY_DOMAIN

RESTORE_SERVICE = service_pb.DESCRIPTOR.services_by_name["OneDriveRestoreService"].full_name
MUTATING = frozenset(
    {
        "CreateRestoreSession",
        "DeleteRestoreSession",
        "AddDriveRestoreArtifacts",
        "RemoveDriveRestoreArtifacts",
        "ActivateRestoreSession",
        "CreateDriveRestoreArtifactsBulkAdditionRequest",
    }
)

MAX_AUDITED_ID_CHARS = 128

log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]


def _refusal(code: int, reason: str, message: str, caller: str = "") -> grpc.Status:
    info = error_details_pb2.ErrorInfo(reason=reason, domain=GATEWAY_DOMAIN)
    if caller:
        info.metadata["caller"] = caller
    detail = any_pb2.Any()
    detail.Pack(info)
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=[detail]))


def _artifacts(request: Any) -> list[dict[str, str]]:
    """The drives a request names, for the audit record."""
    if isinstance(request, service_pb.CreateRestoreSessionRequest):
        artifacts = request.restore_session.drive_restore_artifacts
    elif isinstance(request, service_pb.AddDriveRestoreArtifactsRequest):
        artifacts = request.drive_restore_artifacts
    elif isinstance(request, service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest):
        bulk = request.bulk_addition_request
        destination = pb.DestinationType.Name(bulk.destination_type)
        return [
            {kind: name, "destination": destination}
            for kind, names in (
                ("drive", bulk.drives),
                ("directory_object_id", bulk.directory_object_ids),
                ("protection_unit_id", bulk.protection_unit_ids),
            )
            for name in names
        ]
    else:
        return [{"artifact_id": i} for i in getattr(request, "drive_restore_artifact_ids", [])]
    return [
        {
            "restore_point_id": a.restore_point.id,
            "destination": pb.DestinationType.Name(a.destination_type),
        }
        for a in artifacts
    ]


def _session_id(request: Any, response: Any) -> str:
    for candidate in (
        getattr(response, "restore_session_id", ""),
        getattr(request, "restore_session_id", ""),
        response.id if isinstance(response, pb.RestoreSession) else "",
    ):
        if candidate:
            return str(candidate)
    return ""


class Gate(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        authenticator: Authenticator,
        policy: PolicySource,
        audit: AuditLog,
        facts: GraphFacts,
    ) -> None:
        self._authenticator = authenticator
        self._policy = policy
        self._audit = audit
        # Session sizes and restore points' units, for the rules that need them.
        self._facts = facts

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        # Typed Any: types-grpcio describes the synchronous handlers only.
        handler: Any = await continuation(details)
        if handler is None:
            return handler
        service, _, method = details.method.strip("/").partition("/")
        guarded = service == RESTORE_SERVICE
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method, guarded),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._unary_stream(handler.unary_stream, method, guarded),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:  # server reflection
            return grpc.stream_stream_rpc_method_handler(
                self._stream_stream(handler.stream_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    async def _admit(self, context: Context, method: str, request: Any, guarded: bool) -> str:
        """Authenticate, and for the restore service apply the policy; abort otherwise."""
        try:
            caller = await self._authenticator.identify(context)
        except Unauthenticated as exc:
            log.warning(
                "unauthenticated call",
                extra={"fields": {"rpc": method, "peer": context.peer(), "why": str(exc)}},
            )
            await context.abort_with_status(
                _refusal(code_pb2.UNAUTHENTICATED, "UNAUTHENTICATED", str(exc))
            )
            raise
        logs.RPC_FIELDS.set({"rpc": method, "caller": caller})
        rpc_trace.CALLER.set(caller)
        policy = self._policy.current()
        if guarded and policy is not None:
            # Facts from Graph only for a caller the policy may let through: an unknown
            # caller or a refused method costs no Graph call.
            allowed = policy.may_call(caller, method)
            session_id = adds_to_session(request) if allowed else ""
            already = await self._facts.session_size(session_id) if session_id else 0
            wants_units = allowed and policy.restricts_units(caller)
            points = restore_point_ids(request) if wants_units else []
            units = await self._facts.units_of(points) if points else None
            try:
                policy.check(caller, method, request, already, units)
            except Denied as denied:
                log.warning("rpc denied", extra={"fields": {"reason": denied.reason}})
                await self._write_audit(
                    context,
                    caller,
                    method,
                    request,
                    None,
                    "denied",
                    denied.reason,
                    "PERMISSION_DENIED",
                    None,
                )
                await context.abort_with_status(
                    _refusal(code_pb2.PERMISSION_DENIED, denied.reason, str(denied), caller)
                )
        return caller

    def _unary(
        self, behavior: Callable[[Any, Context], Awaitable[Any]], method: str, guarded: bool
    ) -> Callable[[Any, Context], Awaitable[Any]]:
        async def gated(request: Any, context: Context) -> Any:
            caller = await self._admit(context, method, request, guarded)
            if method not in MUTATING:
                return await behavior(request, context)
            trace = rpc_trace.RpcTrace()
            rpc_trace.CURRENT.set(trace)
            response = None
            try:
                response = await behavior(request, context)
                return response
            finally:
                code = context.code()
                outcome = (
                    "OK"
                    if response is not None
                    else (code.name if isinstance(code, grpc.StatusCode) else "CANCELLED")
                )
                await self._write_audit(
                    context, caller, method, request, response, "allowed", "", outcome, trace
                )

        return gated

    def _unary_stream(
        self, behavior: Callable[[Any, Context], AsyncIterator[Any]], method: str, guarded: bool
    ) -> Callable[[Any, Context], AsyncIterator[Any]]:
        async def gated(request: Any, context: Context) -> AsyncIterator[Any]:
            await self._admit(context, method, request, guarded)
            async for response in behavior(request, context):
                yield response

        return gated

    def _stream_stream(
        self, behavior: Callable[[AsyncIterator[Any], Context], AsyncIterator[Any]]
    ) -> Callable[[AsyncIterator[Any], Context], AsyncIterator[Any]]:
        async def gated(requests: AsyncIterator[Any], context: Context) -> AsyncIterator[Any]:
            await self._admit(context, "ServerReflectionInfo", None, guarded=False)
            async for response in behavior(requests, context):
                yield response

        return gated

    async def _write_audit(
        self,
        context: Context,
        caller: str,
        method: str,
        request: Any,
        response: Any,
        decision: str,
        reason: str,
        outcome: str,
        trace: rpc_trace.RpcTrace | None,
    ) -> None:
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "caller": caller,
            "peer": context.peer(),
            "rpc": method,
            # Bounded: a refused request's id may be anything up to the message size.
            "request_id": str(getattr(request, "request_id", ""))[:MAX_AUDITED_ID_CHARS],
            "decision": decision,
            "reason": reason,
            "outcome": outcome,
            "restore_session_id": _session_id(request, response),
            "graph_request_ids": trace.graph_request_ids if trace else [],
            "artifacts": _artifacts(request),
        }
        await self._audit.write(record)
