"""Small builders and readers shared by the tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from graphrestore.v1 import exchange_restore_service_pb2 as exchange_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from grpc_status import rpc_status


def create_request(
    *restore_point_ids: str,
    destination: int = pb.DESTINATION_TYPE_NEW,
    validate_only: bool = False,
) -> service_pb.CreateRestoreSessionRequest:
    return service_pb.CreateRestoreSessionRequest(
        restore_session=pb.RestoreSession(
            drive_restore_artifacts=[
                pb.DriveRestoreArtifact(
                    restore_point=pb.RestorePoint(id=point), destination_type=destination
                )
                for point in restore_point_ids
            ]
        ),
        request_id=str(uuid.uuid4()),
        validate_only=validate_only,
    )


def details(error: grpc.RpcError) -> dict[str, object]:
    """ErrorInfo, RetryInfo and BadRequest of a failed call, by type name."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "the gateway sent no rich status details"
    found: dict[str, object] = {}
    for detail in status.details:
        for message in (
            error_details_pb2.ErrorInfo(),
            error_details_pb2.RetryInfo(),
            error_details_pb2.BadRequest(),
        ):
            if detail.Unpack(message):
                found[type(message).__name__] = message
    return found


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    info = details(error)["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    return info


def retry_delay_s(error: grpc.RpcError) -> float | None:
    retry = details(error).get("RetryInfo")
    if retry is None:
        return None
    assert isinstance(retry, error_details_pb2.RetryInfo)
    return retry.retry_delay.ToTimedelta().total_seconds()


async def wait_until(condition: Callable[[], bool], within_s: float = 10) -> bool:
    """wait_for inside an event loop: polls without holding the loop, so its tasks run."""
    give_up = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > give_up:
            return False
        await asyncio.sleep(0.001)
    return True


def wait_for(condition: Callable[[], bool], within_s: float) -> bool:
    """Poll `condition` until it holds or `within_s` passes (effects seen in other processes)."""
    give_up = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.05)
    return True


def bulk_by_email(email: str, session_id: str = "", mailbox: bool = False) -> object:
    """A bulk create naming one user's drive (or mailbox) by e-mail, its latest restore
    point in a fixed period, into `session_id` (or a new session)."""
    bulk_type, requests, names = (
        (pb.MailboxRestoreArtifactsBulkAdditionRequest, exchange_pb, "mailboxes")
        if mailbox
        else (pb.DriveRestoreArtifactsBulkAdditionRequest, service_pb, "drives")
    )
    request_type = (
        requests.CreateMailboxRestoreArtifactsBulkAdditionRequestRequest
        if mailbox
        else requests.CreateDriveRestoreArtifactsBulkAdditionRequestRequest
    )
    return request_type(
        restore_session_id=session_id,
        bulk_addition_request=bulk_type(
            display_name="a bulk create",
            destination_type=pb.DESTINATION_TYPE_NEW,
            protection_time_period=pb.TimePeriod(
                start_date_time=Timestamp(seconds=1790000000),
                end_date_time=Timestamp(seconds=1792000000),
            ),
            restore_point_preference=pb.RESTORE_POINT_PREFERENCE_LATEST,
            **{names: [email]},
        ),
        request_id=str(uuid.uuid4()),
    )
