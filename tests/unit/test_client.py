"""graphrestore.Client's own retries and errors, against an in-process server that answers
as a busy gateway would: a status, RetryInfo and ErrorInfo, then a session."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from graphrestore import AsyncClient, Client, GatewayError
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from grpc_status import rpc_status


@dataclass
class Busy(service_grpc.OneDriveRestoreServiceServicer):
    """Refuses the first `failures` creates with `code` (RetryInfo `retry_after_s`)."""

    failures: int = 0
    code: int = grpc.StatusCode.UNAVAILABLE.value[0]
    retry_after_s: float | None = 0.01
    request_ids: list[str] = field(default_factory=list)

    def CreateRestoreSession(
        self, request: service_pb.CreateRestoreSessionRequest, context: grpc.ServicerContext
    ) -> pb.RestoreSession:
        self.request_ids.append(request.request_id)
        if len(self.request_ids) <= self.failures:
            context.abort_with_status(rpc_status.to_status(self._refusal()))
        return pb.RestoreSession(id="session-1", status=pb.RESTORE_SESSION_STATUS_DRAFT)

    def WatchRestoreSession(
        self, request: service_pb.WatchRestoreSessionRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.RestoreSession]:
        yield pb.RestoreSession(id=request.restore_session_id)
        context.abort_with_status(rpc_status.to_status(self._refusal()))

    def _refusal(self) -> status_pb2.Status:
        info = any_pb2.Any()
        info.Pack(
            error_details_pb2.ErrorInfo(
                reason="TOO_MANY_REQUESTS",
                domain="graph.microsoft.com",
                metadata={"graph_code": "TooManyRequests", "request_id": "graph-request-1"},
            )
        )
        details = [info]
        if self.retry_after_s is not None:
            retry = any_pb2.Any()
            retry.Pack(
                error_details_pb2.RetryInfo(
                    retry_delay=duration_pb2.Duration(nanos=int(self.retry_after_s * 1e9))
                    if self.retry_after_s < 1
                    else duration_pb2.Duration(seconds=int(self.retry_after_s))
                )
            )
            details.append(retry)
        return status_pb2.Status(code=self.code, message="busy", details=details)


@pytest.fixture
def busy() -> Iterator[tuple[Busy, str]]:
    servicer = Busy()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    service_grpc.add_OneDriveRestoreServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(grace=None)


def create() -> service_pb.CreateRestoreSessionRequest:
    return service_pb.CreateRestoreSessionRequest(
        restore_session=pb.RestoreSession(
            drive_restore_artifacts=[
                pb.DriveRestoreArtifact(restore_point=pb.RestorePoint(id="rp"))
            ]
        )
    )


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED])
def test_a_busy_gateway_is_retried_as_retry_info_says_with_one_request_id(
    busy: tuple[Busy, str], code: grpc.StatusCode
) -> None:
    servicer, address = busy
    servicer.failures, servicer.code = 2, code.value[0]
    with Client(address) as client:
        session = client.onedrive.CreateRestoreSession(create(), timeout=10)
    assert session.id == "session-1"
    assert len(servicer.request_ids) == 3
    assert len(set(servicer.request_ids)) == 1 and servicer.request_ids[0]


def test_a_request_id_of_the_callers_own_is_kept(busy: tuple[Busy, str]) -> None:
    servicer, address = busy
    request = create()
    request.request_id = "the-callers-own"
    with Client(address) as client:
        client.onedrive.CreateRestoreSession(request, timeout=10)
    assert servicer.request_ids == ["the-callers-own"]


def test_other_failures_are_raised_at_once_with_what_the_gateway_said(
    busy: tuple[Busy, str],
) -> None:
    servicer, address = busy
    servicer.failures, servicer.code = 5, grpc.StatusCode.FAILED_PRECONDITION.value[0]
    with Client(address) as client, pytest.raises(GatewayError) as raised:
        client.onedrive.CreateRestoreSession(create(), timeout=10)
    assert len(servicer.request_ids) == 1
    error = raised.value
    assert isinstance(error, grpc.RpcError)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (error.reason, error.graph_code, error.graph_request_id) == (
        "TOO_MANY_REQUESTS",
        "TooManyRequests",
        "graph-request-1",
    )


def test_no_retry_without_retry_info(busy: tuple[Busy, str]) -> None:
    servicer, address = busy
    servicer.failures, servicer.retry_after_s = 5, None
    with Client(address) as client, pytest.raises(GatewayError):
        client.onedrive.CreateRestoreSession(create(), timeout=10)
    assert len(servicer.request_ids) == 1


def test_no_retry_whose_delay_would_pass_the_deadline(busy: tuple[Busy, str]) -> None:
    servicer, address = busy
    servicer.failures, servicer.retry_after_s = 5, 30
    with Client(address, retry_deadline_s=5) as client, pytest.raises(GatewayError) as raised:
        client.onedrive.CreateRestoreSession(create(), timeout=10)
    assert len(servicer.request_ids) == 1
    assert raised.value.retry_after_s == 30


def test_the_async_client_retries_the_same_way(busy: tuple[Busy, str]) -> None:
    servicer, address = busy
    servicer.failures = 2

    async def main() -> pb.RestoreSession:
        async with AsyncClient(address) as client:
            session: pb.RestoreSession = await client.onedrive.CreateRestoreSession(
                create(), timeout=10
            )
            return session

    assert asyncio.run(main()).id == "session-1"
    assert len(servicer.request_ids) == 3 and len(set(servicer.request_ids)) == 1


def test_the_async_client_raises_gateway_errors(busy: tuple[Busy, str]) -> None:
    servicer, address = busy
    servicer.failures, servicer.retry_after_s = 5, None

    async def main() -> None:
        async with AsyncClient(address) as client:
            await client.onedrive.CreateRestoreSession(create(), timeout=10)

    with pytest.raises(GatewayError) as raised:
        asyncio.run(main())
    assert raised.value.reason == "TOO_MANY_REQUESTS"


def watch() -> service_pb.WatchRestoreSessionRequest:
    return service_pb.WatchRestoreSessionRequest(restore_session_id="session-1")


def test_a_broken_stream_raises_a_gateway_error(busy: tuple[Busy, str]) -> None:
    _, address = busy
    seen = []
    with Client(address) as client, pytest.raises(GatewayError) as raised:
        for update in client.onedrive.WatchRestoreSession(watch(), timeout=10):
            seen.append(update.id)
    assert seen == ["session-1"]
    assert raised.value.reason == "TOO_MANY_REQUESTS"


def test_a_broken_async_stream_raises_a_gateway_error(busy: tuple[Busy, str]) -> None:
    _, address = busy
    seen = []

    async def main() -> None:
        async with AsyncClient(address) as client:
            async for update in client.onedrive.WatchRestoreSession(watch(), timeout=10):
                seen.append(update.id)

    with pytest.raises(GatewayError) as raised:
        asyncio.run(main())
    assert seen == ["session-1"]
    assert raised.value.reason == "TOO_MANY_REQUESTS"
