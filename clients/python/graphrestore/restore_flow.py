"""`restorectl restore`: one command from a list of drives to a finished restore.

Collect restore points (given, from a CSV, or searched for protection units at a point
in time), create one session, activate it (waiting out Graph's 25-active-sessions limit),
follow it with a progress bar, then summarise and name every artifact that failed."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2

from graphrestore.channel import error_details, new_request_id
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb

# How far before the point in time a restore point may be.
SEARCH_WINDOW = timedelta(days=30)
ACTIVATE_PATIENCE_S = 3600.0
WATCH_RETRIES = 5
BAR_WIDTH = 30
TERMINAL = frozenset(
    {
        pb.RESTORE_SESSION_STATUS_COMPLETED,
        pb.RESTORE_SESSION_STATUS_COMPLETED_WITH_ERROR,
        pb.RESTORE_SESSION_STATUS_FAILED,
    }
)

Stub = service_grpc.OneDriveRestoreServiceStub
T = TypeVar("T")


class RestoreInputError(ValueError):
    """The drives to restore could not be read or found."""


# CSV columns, most precise first: a row is read by the first of them it fills.
CSV_COLUMNS = ("restore_point_id", "protection_unit_id", "email", "directory_object_id")


@dataclass
class Targets:
    """What to restore: restore points, or drives named by protection unit (searched
    here), or by owner e-mail / directory object id (Graph's bulk addition picks)."""

    restore_point_ids: list[str] = field(default_factory=list)
    protection_unit_ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    directory_object_ids: list[str] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        return {
            "restore_point_id": self.restore_point_ids,
            "protection_unit_id": self.protection_unit_ids,
            "email": self.emails,
            "directory_object_id": self.directory_object_ids,
        }[name]

    @property
    def needs_bulk(self) -> bool:
        return bool(self.emails or self.directory_object_ids)


def read_csv(path: str, targets: Targets) -> None:
    """Add a CSV's rows to `targets`; its header names at least one of CSV_COLUMNS."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = [c for c in CSV_COLUMNS if c in (reader.fieldnames or ())]
        if not columns:
            raise RestoreInputError(f"{path}: the header needs one of {', '.join(CSV_COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            filled = next((c for c in columns if (row.get(c) or "").strip()), None)
            if filled is None:
                raise RestoreInputError(f"{path}:{line}: no {' or '.join(columns)}")
            targets.column(filled).append(str(row[filled]).strip())


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def window(point_in_time: datetime) -> pb.TimePeriod:
    """Restore points up to the point in time, the latest preferred."""
    return pb.TimePeriod(
        start_date_time=_timestamp(point_in_time - SEARCH_WINDOW),
        end_date_time=_timestamp(point_in_time),
    )


def latest_points(
    stub: Any, unit_ids: list[str], point_in_time: datetime, timeout: float
) -> dict[str, pb.RestorePoint]:
    """Unit id -> its latest restore point at or before `point_in_time` (within
    SEARCH_WINDOW), for the units that have one; `stub` of any workload's service (the
    gateway searches 20 units per Graph call)."""
    found = stub.SearchRestorePoints(
        service_pb.SearchRestorePointsRequest(
            protection_unit_ids=unit_ids,
            protection_time_period=window(point_in_time),
            restore_point_preference=pb.RESTORE_POINT_PREFERENCE_LATEST,
        ),
        timeout=timeout,
    )
    latest: dict[str, pb.RestorePoint] = {}
    for result in found.search_results:
        latest.setdefault(result.restore_point.protection_unit.id, result.restore_point)
    return latest


def search_points(
    stub: Stub, unit_ids: list[str], point_in_time: datetime, timeout: float
) -> list[str]:
    """The latest restore point at or before `point_in_time` for each unit."""
    latest = latest_points(stub, unit_ids, point_in_time, timeout)
    missing = [u for u in unit_ids if u not in latest]
    if missing:
        raise RestoreInputError(
            f"no restore point before {point_in_time.isoformat()} for {len(missing)} "
            f"protection units, first {missing[0]}"
        )
    return [latest[u].id for u in unit_ids]


def _retry_delay_s(error: grpc.RpcError) -> float | None:
    for detail in error_details(error):
        retry = error_details_pb2.RetryInfo()
        if detail.Unpack(retry):
            return float(retry.retry_delay.ToTimedelta().total_seconds())
    return None


def activate_when_allowed(stub: Any, session_id: str, timeout: float) -> pb.RestoreSession:
    """Activate; while Graph runs 25 sessions already, wait as RetryInfo says and retry
    (with the same request id)."""
    request = service_pb.ActivateRestoreSessionRequest(
        restore_session_id=session_id, request_id=new_request_id()
    )
    activated: pb.RestoreSession = retrying(
        stub.ActivateRestoreSession, request, timeout, ACTIVATE_PATIENCE_S
    )
    return activated


# What the gateway answers when trying again later may succeed: Graph throttled or was
# busy (25 active sessions), or unavailable (the change may have been applied: the same
# request id lets the gateway find it before doing it again).
RETRIED_CODES = frozenset({grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE})


def retrying(rpc: Callable[..., T], request: Any, timeout: float, patience_s: float) -> T:
    """rpc(request), sent again (the same request, so the same request id) while the
    gateway says to retry, waiting as its RetryInfo says, for up to `patience_s`."""
    give_up = time.monotonic() + patience_s
    while True:
        try:
            return rpc(request, timeout=timeout)
        except grpc.RpcError as error:
            delay_s = _retry_delay_s(error)
            retried = isinstance(error, grpc.Call) and error.code() in RETRIED_CODES
            if not retried or delay_s is None or time.monotonic() + delay_s > give_up:
                raise
            busy = error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            what = "tenant busy" if busy else "Graph unavailable"
            print(f"{what} ({error.details()}); retrying in {delay_s:g}s", file=sys.stderr)
            time.sleep(delay_s)


def progress_line(session: pb.RestoreSession, started: float) -> str:
    counts = session.restore_session_artifact_count
    finished = counts.completed + counts.failed
    total = max(counts.total, 1)
    filled = BAR_WIDTH * finished // total
    elapsed_s = time.monotonic() - started
    eta = "--:--"
    if 0 < finished < counts.total:
        eta = clock(elapsed_s / finished * (counts.total - finished))
    status = pb.RestoreSessionStatus.Name(session.status).removeprefix("RESTORE_SESSION_STATUS_")
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {finished}/{counts.total} "
        f"done={counts.completed} failed={counts.failed} running={counts.in_progress} "
        f"{status.lower()} elapsed {clock(elapsed_s)} eta {eta}"
    )


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def follow(
    stub: Any, session_id: str, on_update: Callable[[pb.RestoreSession], None]
) -> pb.RestoreSession:
    """Watch the session (of any workload's service) until it is terminal, telling
    `on_update` each change; re-attach if the stream breaks."""
    last: pb.RestoreSession | None = None
    for attempt in range(WATCH_RETRIES):
        try:
            stream = stub.WatchRestoreSession(
                service_pb.WatchRestoreSessionRequest(restore_session_id=session_id)
            )
            for last in stream:
                on_update(last)
            if last is not None and last.status in TERMINAL:
                break
        except grpc.RpcError as error:
            unavailable = (
                isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.UNAVAILABLE
            )
            if not unavailable or attempt == WATCH_RETRIES - 1:
                raise
            time.sleep(2**attempt)
    if last is None:
        raise RuntimeError("the watch ended before the session was seen")
    return last


def every_page(fetch: Callable[[str], tuple[list[T], str]]) -> Iterator[T]:
    """Items of every page, `fetch(page_token)` giving (items, next_page_token)."""
    token = ""
    while True:
        items, token = fetch(token)
        yield from items
        if not token:
            return


def all_artifacts(stub: Stub, session_id: str, timeout: float) -> Iterator[pb.DriveRestoreArtifact]:
    def fetch(token: str) -> tuple[list[pb.DriveRestoreArtifact], str]:
        page = stub.ListDriveRestoreArtifacts(
            service_pb.ListDriveRestoreArtifactsRequest(
                restore_session_id=session_id, page_size=1000, page_token=token
            ),
            timeout=timeout,
        )
        return list(page.drive_restore_artifacts), page.next_page_token

    return every_page(fetch)


def failed_artifacts(stub: Stub, session_id: str, timeout: float) -> list[pb.DriveRestoreArtifact]:
    return [
        a
        for a in all_artifacts(stub, session_id, timeout)
        if a.status == pb.ARTIFACT_RESTORE_STATUS_FAILED
    ]


def create_session(
    stub: Stub,
    restore_point_ids: Iterable[str],
    destination: pb.DestinationType,
    timeout: float,
) -> pb.RestoreSession:
    return stub.CreateRestoreSession(
        service_pb.CreateRestoreSessionRequest(
            restore_session=pb.RestoreSession(
                drive_restore_artifacts=[
                    pb.DriveRestoreArtifact(
                        restore_point=pb.RestorePoint(id=point), destination_type=destination
                    )
                    for point in restore_point_ids
                ]
            ),
            request_id=new_request_id(),
        ),
        timeout=timeout,
    )


def create_bulk_session(
    stub: Stub,
    targets: Targets,
    point_in_time: datetime,
    destination: pb.DestinationType,
    timeout: float,
) -> str:
    """One new session filled by Graph's bulk addition request; its id."""
    bulk = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
        service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest(
            bulk_addition_request=pb.DriveRestoreArtifactsBulkAdditionRequest(
                display_name=f"restorectl {point_in_time.isoformat()}",
                destination_type=destination,
                protection_time_period=window(point_in_time),
                restore_point_preference=pb.RESTORE_POINT_PREFERENCE_LATEST,
                drives=targets.emails,
                directory_object_ids=targets.directory_object_ids,
                protection_unit_ids=targets.protection_unit_ids,
            ),
            request_id=new_request_id(),
        ),
        timeout=timeout,
    )
    return bulk.restore_session_id
