"""Bulk addition requests as restorectl sends them: one row per workload (its service,
messages and the field its names go in), the request that makes one session of names,
and the names Graph or the gateway refuse taken out of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2

from graphrestore import restore_flow, runs
from graphrestore.channel import error_details, new_request_id
from graphrestore.v1 import exchange_restore_service_pb2 as exchange_pb
from graphrestore.v1 import exchange_restore_service_pb2_grpc as exchange_grpc
from graphrestore.v1 import onedrive_restore_service_pb2 as onedrive_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as onedrive_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb
from graphrestore.v1 import sharepoint_restore_service_pb2_grpc as sharepoint_grpc

# Graph takes up to this many names in one bulk request (one per session).
NAMES_PER_BULK = 10_000
T = TypeVar("T")


@dataclass(frozen=True)
class Workload:
    """How restorectl restores one workload in bulk."""

    name: str
    stub: Callable[[grpc.Channel], Any]
    module: Any
    noun: str
    bulk_type: Any
    # The bulk request field the CSV's names go into.
    names_field: str
    artifacts_field: str

    def rpc(self, stub: Any, pattern: str) -> Any:
        return getattr(stub, pattern.format(noun=self.noun))

    def message(self, pattern: str, **fields: Any) -> Any:
        return getattr(self.module, pattern.format(noun=self.noun))(**fields)


WORKLOADS = {
    w.name: w
    for w in (
        Workload(
            "onedrive",
            onedrive_grpc.OneDriveRestoreServiceStub,
            onedrive_pb,
            "Drive",
            pb.DriveRestoreArtifactsBulkAdditionRequest,
            "drives",
            "drive_restore_artifacts",
        ),
        Workload(
            "exchange",
            exchange_grpc.ExchangeRestoreServiceStub,
            exchange_pb,
            "Mailbox",
            pb.MailboxRestoreArtifactsBulkAdditionRequest,
            "mailboxes",
            "mailbox_restore_artifacts",
        ),
        Workload(
            "sharepoint",
            sharepoint_grpc.SharePointRestoreServiceStub,
            sharepoint_pb,
            "Site",
            pb.SiteRestoreArtifactsBulkAdditionRequest,
            "site_web_urls",
            "site_restore_artifacts",
        ),
    )
}


def bulk_request(
    workload: Workload,
    names: list[str],
    point_in_time: datetime,
    destination: pb.DestinationType,
    validate_only: bool = False,
) -> Any:
    """The bulk addition request that makes one session of `names`."""
    fields: dict[str, Any] = {"validate_only": True} if validate_only else {}
    return workload.message(
        "Create{noun}RestoreArtifactsBulkAdditionRequestRequest",
        bulk_addition_request=workload.bulk_type(
            display_name=f"restorectl {workload.name} {point_in_time.isoformat()}",
            destination_type=destination,
            protection_time_period=restore_flow.window(point_in_time),
            restore_point_preference=pb.RESTORE_POINT_PREFERENCE_LATEST,
            **{workload.names_field: names},
        ),
        request_id=new_request_id(),
        **fields,
    )


# A name refused: (name, code, why, Graph's request id or "").
Refused = tuple[str, str, str, str]


def without_refused_names(
    create: Callable[[list[str]], T], names: list[str], field: str
) -> tuple[list[T], list[Refused]]:
    """Bulk requests for `names`, less the names refused, and those refused: one departed
    user must not stop a thousand restores. The gateway names the bad ones (BadRequest);
    Graph refuses the whole request for one unknown address, so the list is halved until
    the refused names stand alone (the gateway deletes the empty draft of each refused
    request)."""
    if not names:
        return [], []
    try:
        return [create(names)], []
    except grpc.RpcError as error:
        if not isinstance(error, grpc.Call) or error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        named = _refused_indexes(error, f"bulk_addition_request.{field}")
        reason = reason_of(error)
        graph_request_id = runs.graph_request_id(error)
        if named:
            refused = [
                (names[i], "INVALID_ARGUMENT", description, graph_request_id)
                for i, description in named
            ]
        elif reason in REFUSED_NAME_REASONS and len(names) == 1:
            refused = [(names[0], reason, error.details() or "", graph_request_id)]
        elif reason in REFUSED_NAME_REASONS:
            half = len(names) // 2
            first, first_refused = without_refused_names(create, names[:half], field)
            second, second_refused = without_refused_names(create, names[half:], field)
            return first + second, first_refused + second_refused
        else:
            raise
    bad = {name for name, *_ in refused}
    made, more = without_refused_names(create, [n for n in names if n not in bad], field)
    return made, refused + more


# Graph's refusals of a bulk request for one name it cannot take (as ErrorInfo reasons).
REFUSED_NAME_REASONS = frozenset(
    {
        "BULK_RESTORE_INVALID_CREATE_REQUEST_USER_EMAIL",
        "BULK_RESTORE_INVALID_CREATE_REQUEST_SITE_URL",
        "BULK_RESTORE_INVALID_CREATE_REQUEST",
    }
)


def reason_of(error: grpc.RpcError) -> str:
    for detail in error_details(error):
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return ""


def _refused_indexes(error: grpc.RpcError, field: str) -> list[tuple[int, str]]:
    """(index, why) of each name the gateway's BadRequest refused in `field`."""
    found = []
    for detail in error_details(error):
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            for violation in bad.field_violations:
                index = violation.field.removeprefix(f"{field}[").removesuffix("]")
                if violation.field.startswith(f"{field}[") and index.isdigit():
                    found.append((int(index), violation.description))
    return found
