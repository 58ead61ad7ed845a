"""Random and oversized requests at every RPC: each gets a clean status (never UNKNOWN or
INTERNAL, never a traceback), nothing malformed reaches Graph, the server stays up."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import wait_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from processes import Emulator, Gateway
from test_workloads import KINDS, SHAREPOINT, Kind

GRAPH_ID = re.compile(r"(?!\.+$)[A-Za-z0-9._=-]{1,256}")
# Every Graph path the gateway may send, below the backup API.
GRAPH_ROOTS = (
    "oneDriveForBusinessRestoreSessions",
    "sharePointRestoreSessions",
    "exchangeRestoreSessions",
    "restoreSessions",
    "restorePoints",
    "driveProtectionUnits",
    "oneDriveForBusinessBrowseSessions",
    "sharePointBrowseSessions",
)
ARTIFACT_KEYS = tuple(
    f"{kind}RestoreArtifacts{suffix}"
    for kind in ("drive", "site", "mailbox", "granularMailbox")
    for suffix in ("", "@delta")
)
CLEAN_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}

ids = st.one_of(
    st.text(max_size=300),
    st.from_regex(r"\A[A-Za-z0-9._=-]{1,40}\Z"),
    st.sampled_from(["", "..", "../x", "a/b", "a b", "%2e%2e", "x" * 257, "rp\n1"]),
)
destinations = st.integers(min_value=-3, max_value=8)
artifacts = st.builds(
    lambda i, d: pb.DriveRestoreArtifact(restore_point=pb.RestorePoint(id=i), destination_type=d),
    ids,
    destinations,
)
artifact_lists = st.lists(artifacts, max_size=60)
request_ids = st.one_of(st.just(""), st.uuids().map(str), st.text(max_size=50))
stamps = st.builds(
    lambda s, n: Timestamp(seconds=s, nanos=n),
    st.integers(min_value=-62135596800, max_value=253402300799),
    st.integers(min_value=0, max_value=999_999_999),
)
tags = st.lists(st.integers(min_value=-2, max_value=6), max_size=4)


def requests() -> st.SearchStrategy[tuple[str, Any]]:
    return st.one_of(
        st.builds(
            lambda a, r, v: (
                "CreateRestoreSession",
                service_pb.CreateRestoreSessionRequest(
                    restore_session=pb.RestoreSession(drive_restore_artifacts=a),
                    request_id=r,
                    validate_only=v,
                ),
            ),
            artifact_lists,
            request_ids,
            st.booleans(),
        ),
        st.builds(
            lambda i: (
                "GetRestoreSession",
                service_pb.GetRestoreSessionRequest(restore_session_id=i),
            ),
            ids,
        ),
        st.builds(
            lambda n, t: (
                "ListRestoreSessions",
                service_pb.ListRestoreSessionsRequest(page_size=n, page_token=t),
            ),
            st.integers(min_value=-(2**31), max_value=2**31 - 1),
            st.text(max_size=100),
        ),
        st.builds(
            lambda i, r: (
                "DeleteRestoreSession",
                service_pb.DeleteRestoreSessionRequest(restore_session_id=i, request_id=r),
            ),
            ids,
            request_ids,
        ),
        st.builds(
            lambda i, a, r: (
                "AddDriveRestoreArtifacts",
                service_pb.AddDriveRestoreArtifactsRequest(
                    restore_session_id=i, drive_restore_artifacts=a, request_id=r
                ),
            ),
            ids,
            artifact_lists,
            request_ids,
        ),
        st.builds(
            lambda i, x, r: (
                "RemoveDriveRestoreArtifacts",
                service_pb.RemoveDriveRestoreArtifactsRequest(
                    restore_session_id=i, drive_restore_artifact_ids=x, request_id=r
                ),
            ),
            ids,
            st.lists(ids, max_size=60),
            request_ids,
        ),
        st.builds(
            lambda i, r: (
                "ActivateRestoreSession",
                service_pb.ActivateRestoreSessionRequest(restore_session_id=i, request_id=r),
            ),
            ids,
            request_ids,
        ),
        st.builds(
            lambda i, n: (
                "ListDriveRestoreArtifacts",
                service_pb.ListDriveRestoreArtifactsRequest(restore_session_id=i, page_size=n),
            ),
            ids,
            st.integers(min_value=-5, max_value=5000),
        ),
        st.builds(
            lambda u, a, b, p, t: (
                "SearchRestorePoints",
                service_pb.SearchRestorePointsRequest(
                    protection_unit_ids=u,
                    protection_time_period=pb.TimePeriod(start_date_time=a, end_date_time=b),
                    restore_point_preference=p,
                    tags=t,
                ),
            ),
            st.lists(ids, max_size=45),
            stamps,
            stamps,
            st.integers(min_value=-2, max_value=5),
            tags,
        ),
        st.builds(
            lambda s, d, e, u, a, b, dest: (
                "CreateDriveRestoreArtifactsBulkAdditionRequest",
                service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest(
                    restore_session_id=s,
                    bulk_addition_request=pb.DriveRestoreArtifactsBulkAdditionRequest(
                        drives=d,
                        directory_object_ids=e,
                        protection_unit_ids=u,
                        protection_time_period=pb.TimePeriod(start_date_time=a, end_date_time=b),
                        destination_type=dest,
                    ),
                ),
            ),
            st.one_of(st.just(""), ids),
            st.lists(st.text(max_size=80), max_size=5),
            st.lists(ids, max_size=5),
            st.lists(ids, max_size=5),
            stamps,
            stamps,
            destinations,
        ),
    )


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(call=requests())
def test_every_rpc_answers_random_input_cleanly(
    stub: service_grpc.OneDriveRestoreServiceStub, call: tuple[str, Any]
) -> None:
    method, request = call
    try:
        getattr(stub, method)(request, timeout=15)
    except grpc.RpcError as error:
        assert error.code() in CLEAN_CODES, (method, error.code(), error.details())
        assert "Traceback" not in (error.details() or "")


def workload_requests(kind: Kind) -> st.SearchStrategy[tuple[str, Any]]:
    """Random requests for the SharePoint or Exchange service: its own artifacts, another
    workload's, granular ones, odd names in bulk requests, artifact queries."""
    own = st.builds(
        lambda i, d: kind.artifact(restore_point=pb.RestorePoint(id=i), destination_type=d),
        ids,
        destinations,
    )
    granular = st.builds(
        lambda i, d, q: pb.GranularMailboxRestoreArtifact(
            restore_point=pb.RestorePoint(id=i), destination_type=d, search_response_id=q
        ),
        ids,
        destinations,
        st.text(max_size=60),
    )
    sessions = st.builds(
        lambda a, g, d: pb.RestoreSession(
            **{kind.field: a}, granular_mailbox_restore_artifacts=g, drive_restore_artifacts=d
        ),
        st.lists(own, max_size=60),
        st.lists(granular, max_size=3),
        st.lists(artifacts, max_size=2),
    )
    names = st.lists(st.one_of(st.text(max_size=80), st.just("https: //contoso1.sharepoint.com")))
    return st.one_of(
        st.builds(
            lambda x, r: (
                "CreateRestoreSession",
                service_pb.CreateRestoreSessionRequest(restore_session=x, request_id=r),
            ),
            sessions,
            request_ids,
        ),
        st.builds(
            lambda i, a, r: (
                kind.rpc_name("Add{noun}RestoreArtifacts"),
                kind.message(
                    "Add{noun}RestoreArtifactsRequest",
                    restore_session_id=i,
                    request_id=r,
                    **{kind.field: a},
                ),
            ),
            ids,
            st.lists(own, max_size=60),
            request_ids,
        ),
        st.builds(
            lambda i, x: (
                kind.rpc_name("Remove{noun}RestoreArtifacts"),
                kind.message(
                    "Remove{noun}RestoreArtifactsRequest",
                    restore_session_id=i,
                    **{f"{kind.field[:-1]}_ids": x},
                ),
            ),
            ids,
            st.lists(ids, max_size=60),
        ),
        st.builds(
            lambda i, n, t: (
                kind.rpc_name("List{noun}RestoreArtifacts"),
                kind.message(
                    "List{noun}RestoreArtifactsRequest",
                    restore_session_id=i,
                    page_size=n,
                    page_token=t,
                ),
            ),
            ids,
            st.integers(min_value=-5, max_value=5000),
            st.text(max_size=40),
        ),
        st.builds(
            lambda u, a, b, e, q: (
                "SearchRestorePoints",
                service_pb.SearchRestorePointsRequest(
                    protection_unit_ids=u,
                    protection_time_period=pb.TimePeriod(start_date_time=a, end_date_time=b),
                    artifact_query=pb.ArtifactQuery(artifact_type=e, query_expression=q),
                ),
            ),
            st.lists(ids, max_size=3),
            stamps,
            stamps,
            st.integers(min_value=-1, max_value=4),
            st.text(max_size=100),
        ),
        st.builds(
            lambda s_, n, o, u, a, b, dest: (
                kind.rpc_name("Create{noun}RestoreArtifactsBulkAdditionRequest"),
                kind.message(
                    "Create{noun}RestoreArtifactsBulkAdditionRequestRequest",
                    restore_session_id=s_,
                    bulk_addition_request=kind.bulk(
                        protection_unit_ids=u,
                        protection_time_period=pb.TimePeriod(start_date_time=a, end_date_time=b),
                        destination_type=dest,
                        **{kind.bulk_field: n, kind.other_bulk_field: o},
                    ),
                ),
            ),
            st.one_of(st.just(""), ids),
            names,
            st.lists(st.text(max_size=80), max_size=3),
            st.lists(ids, max_size=2),
            stamps,
            stamps,
            destinations,
        ),
    )


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_sharepoint_and_exchange_answer_random_input_cleanly(
    kind: Kind, sharepoint: Any, exchange: Any
) -> None:
    service = sharepoint if kind is SHAREPOINT else exchange

    @settings(max_examples=150, deadline=None)
    @given(call=workload_requests(kind))
    def check(call: tuple[str, Any]) -> None:
        method, request = call
        try:
            getattr(service, method)(request, timeout=15)
        except grpc.RpcError as error:
            assert error.code() in CLEAN_CODES, (method, error.code(), error.details())
            assert "Traceback" not in (error.details() or "")

    check()


def test_nothing_malformed_reached_graph_and_the_server_is_up(
    emulator: Emulator, channel: grpc.Channel
) -> None:
    """Runs after the random calls above (same module, file order)."""
    for entry in emulator.journal():
        # What the gateways sent (they name every request; the tests' own clients do not).
        if not entry["path"].startswith("/v1.0/") or not entry["client_request_id"]:
            continue
        below = entry["path"].removeprefix("/v1.0/solutions/backupRestore/")
        segments = below.split("/")
        assert segments[0] in GRAPH_ROOTS, entry["path"]
        assert all(GRAPH_ID.fullmatch(s) for s in segments), entry["path"]
        if entry["method"] in ("POST", "PATCH") and entry["body"]:
            body = json.loads(entry["body"])
            items = [item for key in ARTIFACT_KEYS for item in body.get(key) or []]
            for item in items:
                point = item.get("restorePoint")
                if point is not None:
                    assert GRAPH_ID.fullmatch(point["id"]), item
                    assert item["destinationType"] in ("new", "inPlace"), item
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert health.status == health_pb2.HealthCheckResponse.SERVING


def test_an_oversized_message_is_refused_by_size(
    stub: service_grpc.OneDriveRestoreServiceStub,
) -> None:
    huge = service_pb.CreateRestoreSessionRequest(
        restore_session=pb.RestoreSession(
            drive_restore_artifacts=[
                pb.DriveRestoreArtifact(restore_point=pb.RestorePoint(id="x" * 5_000_000))
            ]
        )
    )
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(huge, timeout=15)
    assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


# Items a request names, as many as fit in a message the gateway takes (4 MB); a valid
# request names at most 10,000.
FLOOD = 250_000
FLOOD_IDS = [str(i) for i in range(FLOOD)]
FLOODS = {
    "CreateRestoreSession": lambda request_id: service_pb.CreateRestoreSessionRequest(
        restore_session=pb.RestoreSession(
            drive_restore_artifacts=[
                pb.DriveRestoreArtifact(restore_point=pb.RestorePoint(id=i)) for i in FLOOD_IDS
            ]
        ),
        request_id=request_id,
    ),
    "RemoveDriveRestoreArtifacts": lambda request_id: service_pb.RemoveDriveRestoreArtifactsRequest(
        restore_session_id="s-1", drive_restore_artifact_ids=FLOOD_IDS, request_id=request_id
    ),
    "CreateDriveRestoreArtifactsBulkAdditionRequest": lambda request_id: (
        service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest(
            bulk_addition_request=pb.DriveRestoreArtifactsBulkAdditionRequest(drives=FLOOD_IDS),
            request_id=request_id,
        )
    ),
}


@pytest.mark.parametrize("rpc", FLOODS)
def test_a_request_naming_too_many_items_is_audited_within_bounds(
    gateway: Gateway, channel: grpc.Channel, rpc: str
) -> None:
    """It is invalid, so nothing held its lists to a valid request's bounds: listed in
    full, its record cost the event loop 1.6 s (every caller's calls waited) and the audit
    file 20 MB; listing 10,000 items, 0.5 MB. The record lists the first 10 and counts the
    rest: a few KB."""
    request_id = str(uuid.uuid4())
    request = FLOODS[rpc](request_id)
    call = channel.unary_unary(
        f"/graphrestore.v1.OneDriveRestoreService/{rpc}",
        request_serializer=type(request).SerializeToString,
    )
    with pytest.raises(grpc.RpcError) as failure:
        call(request, timeout=30)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    def record() -> str | None:
        lines = [line for line in list(gateway.stdout_lines) if request_id in line]
        return lines[0] if lines else None

    assert wait_for(lambda: record() is not None, within_s=10)
    line = record()
    assert line is not None
    assert len(line) < 4096
    audited = json.loads(line)
    assert audited["outcome"] == "INVALID_ARGUMENT"
    assert len(audited["artifacts"]) == 10
    assert audited["items_not_listed"] == FLOOD - 10
    # The first ones, in order.
    assert [next(iter(item.values())) for item in audited["artifacts"][:3]] == ["0", "1", "2"]
