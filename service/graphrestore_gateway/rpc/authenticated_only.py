"""Health and reflection: open to any caller that proves who it is. (The restore service
passes the whole pipeline instead.) A grpc.aio interceptor sees no peer, so it wraps each
method handler, where the servicer context is at hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from graphrestore_gateway.access.callers import Authenticator
from graphrestore_gateway.exceptions import Unauthenticated
from graphrestore_gateway.restore.workloads import WORKLOADS
from graphrestore_gateway.rpc.status import status_of

Context = grpc.aio.ServicerContext[Any, Any]


# The restore services run the whole call pipeline themselves.
RESTORE_SERVICES = frozenset(w.service.full_name for w in WORKLOADS.values())


class AuthenticatedOnly(grpc.aio.ServerInterceptor):
    """Health and reflection: open to any caller that proves who it is."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        # Typed Any: types-grpcio describes the synchronous handlers only.
        handler: Any = await continuation(details)
        if handler is None or details.method.lstrip("/").split("/")[0] in RESTORE_SERVICES:
            return handler
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
