"""graphrestore.Client and AsyncClient: every workload's typed stub on one channel, with
request ids made for you, retries as the gateway's RetryInfo says, and failures raised as
GatewayError.

The methods are the generated stubs' own (one per RPC, typed by their .pyi), so a new
RPC needs no code here: `client.onedrive.CreateRestoreSession(request, timeout=30)`.
What every call shares is done by one interceptor per channel kind:

- a request with an empty `request_id` (AIP-155) is sent with a fresh one, and each of
  the client's own retries sends that same id, so a create is made once however often
  it is retried;
- UNAVAILABLE and RESOURCE_EXHAUSTED are retried after the delay of the gateway's
  RetryInfo, while the retries stay within `retry_deadline_s`; any other failure, one
  without RetryInfo, or one whose delay would pass the deadline, is raised;
- a failure is raised as GatewayError (ErrorInfo reason, Graph's codes and request
  ids); it is a grpc.RpcError too. Streams (WatchRestoreSession) are not retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import grpc

from graphrestore.channel import channel_credentials, new_request_id
from graphrestore.errors import GatewayError
from graphrestore.v1 import exchange_restore_service_pb2_grpc as exchange_grpc
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as onedrive_grpc
from graphrestore.v1 import sharepoint_restore_service_pb2_grpc as sharepoint_grpc

if TYPE_CHECKING:
    from graphrestore.v1.exchange_restore_service_pb2_grpc import (
        ExchangeRestoreServiceAsyncStub,
    )
    from graphrestore.v1.onedrive_restore_service_pb2_grpc import (
        OneDriveRestoreServiceAsyncStub,
    )
    from graphrestore.v1.sharepoint_restore_service_pb2_grpc import (
        SharePointRestoreServiceAsyncStub,
    )

RETRIED_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
DEFAULT_RETRY_DEADLINE_S = 60.0


def with_request_id(request: Any) -> Any:
    """`request` itself, or a copy with a fresh request_id if it has that field empty."""
    if "request_id" not in request.DESCRIPTOR.fields_by_name or request.request_id:
        return request
    filled = type(request)()
    filled.CopyFrom(request)
    filled.request_id = new_request_id()
    return filled


def retry_delay_s(error: GatewayError, give_up: float) -> float | None:
    """How long to wait before retrying a failed call, or None to raise it."""
    delay_s = error.retry_after_s
    if error.code() not in RETRIED_CODES or delay_s is None:
        return None
    return delay_s if time.monotonic() + delay_s <= give_up else None


class _Calls(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, retry_deadline_s: float) -> None:
        self._retry_deadline_s = retry_deadline_s

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        request = with_request_id(request)
        give_up = time.monotonic() + self._retry_deadline_s
        while True:
            outcome = continuation(details, request)
            error = outcome.exception()
            if error is None:
                return outcome
            failure = GatewayError.from_rpc_error(error)
            delay_s = retry_delay_s(failure, give_up)
            if delay_s is None:
                raise failure from None
            time.sleep(delay_s)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return _Stream(continuation(details, with_request_id(request)))


class _Stream:
    """A server stream whose failure is raised as GatewayError; cancel() as gRPC's."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as error:
            raise GatewayError.from_rpc_error(error) from None

    def cancel(self) -> bool:
        return bool(self._call.cancel())


class _AsyncCalls(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, retry_deadline_s: float) -> None:
        self._retry_deadline_s = retry_deadline_s

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        request = with_request_id(request)
        give_up = time.monotonic() + self._retry_deadline_s
        while True:
            call = await continuation(details, request)
            try:
                await call
                return call
            except grpc.aio.AioRpcError as error:
                failure = GatewayError.from_rpc_error(error)
            delay_s = retry_delay_s(failure, give_up)
            if delay_s is None:
                raise failure
            await asyncio.sleep(delay_s)


class _Settings:
    """The gateway at `address`: plaintext on loopback without files (a gateway with
    GRAPHRESTORE_AUTH=none), TLS with `ca_file`, mTLS with `cert_file` and `key_file`,
    and a bearer token read from `token_file` for every call (JWT mode). The client's own
    retries of a call stop `retry_deadline_s` after it was first sent."""

    def __init__(
        self,
        address: str,
        *,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        token_file: str | None = None,
        retry_deadline_s: float = DEFAULT_RETRY_DEADLINE_S,
    ) -> None:
        credentials = channel_credentials(
            address, ca_file=ca_file, cert_file=cert_file, key_file=key_file, token_file=token_file
        )
        self._open(address, credentials, retry_deadline_s)

    def _open(
        self, address: str, credentials: grpc.ChannelCredentials | None, retry_deadline_s: float
    ) -> None:
        raise NotImplementedError


class _AsyncStreams(grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: grpc.aio.ClientCallDetails, request: Any
    ) -> AsyncIterator[Any]:
        call = await continuation(details, with_request_id(request))

        async def responses() -> AsyncIterator[Any]:
            try:
                async for response in call:
                    yield response
            except grpc.aio.AioRpcError as error:
                raise GatewayError.from_rpc_error(error) from None

        return responses()


class Client(_Settings):
    """The gateway's workloads as typed stubs: `client.onedrive`, `client.sharepoint`,
    `client.exchange`; settings as _Settings says."""

    def _open(
        self, address: str, credentials: grpc.ChannelCredentials | None, retry_deadline_s: float
    ) -> None:
        self._channel = (
            grpc.insecure_channel(address)
            if credentials is None
            else grpc.secure_channel(address, credentials)
        )
        channel = grpc.intercept_channel(self._channel, _Calls(retry_deadline_s))
        self.onedrive = onedrive_grpc.OneDriveRestoreServiceStub(channel)
        self.sharepoint = sharepoint_grpc.SharePointRestoreServiceStub(channel)
        self.exchange = exchange_grpc.ExchangeRestoreServiceStub(channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_Settings):
    """Client for asyncio: the same settings and behaviour, on a grpc.aio channel."""

    onedrive: OneDriveRestoreServiceAsyncStub
    sharepoint: SharePointRestoreServiceAsyncStub
    exchange: ExchangeRestoreServiceAsyncStub

    def _open(
        self, address: str, credentials: grpc.ChannelCredentials | None, retry_deadline_s: float
    ) -> None:
        interceptors: list[grpc.aio.ClientInterceptor] = [
            _AsyncCalls(retry_deadline_s),
            _AsyncStreams(),
        ]
        self._channel = (
            grpc.aio.insecure_channel(address, interceptors=interceptors)
            if credentials is None
            else grpc.aio.secure_channel(address, credentials, interceptors=interceptors)
        )
        self.onedrive = onedrive_grpc.OneDriveRestoreServiceStub(self._channel)
        self.sharepoint = sharepoint_grpc.SharePointRestoreServiceStub(self._channel)
        self.exchange = exchange_grpc.ExchangeRestoreServiceStub(self._channel)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
