"""Health and reflection: open to any caller that proves who it is. (The restore services
pass the whole call pipeline instead.) Not an interceptor, which every call of the restore
services would pass too: the registrar that health and reflection are added through, and
that wraps each of their method handlers, where the servicer context is at hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from grpc_status import rpc_status

from graphrestore_gateway.access.callers import Authenticator
from graphrestore_gateway.exceptions import Unauthenticated
from graphrestore_gateway.rpc.status import status_of

Context = grpc.aio.ServicerContext[Any, Any]


class AuthenticatedOnly:
    """Stands in for the server in generated `add_*Servicer_to_server` functions: what
    they register, it registers with every method gated."""

    def __init__(self, server: grpc.aio.Server, authenticator: Authenticator) -> None:
        self._server = server
        self._authenticator = authenticator

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers([_Gated(self, handler) for handler in handlers])

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        self._server.add_registered_method_handlers(
            service, {name: self.gate(handler) for name, handler in handlers.items()}
        )

    def gate(self, handler: Any) -> Any:
        """The same handler, its behavior run only for an authenticated caller. (Typed
        Any: types-grpcio describes the synchronous handlers only.)"""
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._unary_stream(handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._stream_stream(handler.stream_stream),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    async def _identify(self, context: Context) -> None:
        try:
            await self._authenticator.identify(context)
        except Unauthenticated as refusal:
            await context.abort_with_status(rpc_status.to_status(status_of(refusal)))

    def _unary(self, behavior: Any) -> Any:
        async def gated(request: Any, context: Context) -> Any:
            await self._identify(context)
            return await behavior(request, context)

        return gated

    def _unary_stream(self, behavior: Any) -> Any:
        async def gated(request: Any, context: Context) -> AsyncIterator[Any]:
            await self._identify(context)
            async for response in behavior(request, context):
                yield response

        return gated

    def _stream_stream(self, behavior: Any) -> Any:
        async def gated(requests: Any, context: Context) -> AsyncIterator[Any]:
            await self._identify(context)
            async for response in behavior(requests, context):
                yield response

        return gated


class _Gated(grpc.GenericRpcHandler):
    def __init__(self, gate: AuthenticatedOnly, handler: grpc.GenericRpcHandler) -> None:
        self._gate = gate
        self._handler = handler

    def service(self, details: grpc.HandlerCallDetails) -> Any:
        handler = self._handler.service(details)
        return None if handler is None else self._gate.gate(handler)
