"""The gateway is the permission boundary: callers who try to do more than their policy
allows (other callers' sessions, spoofed identities, concurrent additions, odd ids,
forged page tokens, floods) get nowhere, and Graph never sees what they tried."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from graphrestore.channel import open_channel
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request, details, error_info, retry_delay_s, wait_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailboxes import (
    MailboxGateway,
    Rule,
    activate,
    delete,
    granular_request,
    mailbox_units,
    outside_granular,
    search,
    start_mailbox_gateway,
)
from pki import Authority, Issued
from processes import Emulator, Gateway, start_gateway
from test_lifecycle import bulk_request

Stub = service_grpc.OneDriveRestoreServiceStub
CREATE = "/v1.0/solutions/backupRestore/oneDriveForBusinessRestoreSessions"
ALICE = "spiffe://corp/ns/a/sa/alice"
BOB = "spiffe://corp/ns/b/sa/bob"
READER = "spiffe://corp/ns/r/sa/reader"
AUDITOR = "spiffe://corp/ns/audit/sa/auditor"
ADMIN = "spiffe://corp/ns/ops/sa/admin"
EVERYTHING = json.dumps(
    sorted(service_pb.DESCRIPTOR.services_by_name["OneDriveRestoreService"].methods_by_name)
)
POLICY = f"""
[[callers]]
id = "{ALICE}"
methods = {EVERYTHING}
destination_types = ["new", "inPlace"]
max_artifacts = 5

[[callers]]
id = "{BOB}"
methods = {EVERYTHING}
destination_types = ["new"]
max_artifacts = 50

[[callers]]
id = "{READER}"
methods = ["GetRestoreSession", "ListRestoreSessions", "WatchRestoreSession"]

[[callers]]
id = "{AUDITOR}"
methods = ["GetRestoreSession", "ListRestoreSessions", "ListDriveRestoreArtifacts"]
sessions = "any"

[[callers]]
id = "{ADMIN}"
methods = {EVERYTHING}
destination_types = ["new"]
max_artifacts = 10000
sessions = "any"
"""


@dataclass
class Boundary:
    ca: Authority
    gateways: list[Gateway]
    audit_files: list[Path]
    callers: dict[str, Issued]
    # Sessions made for the hypothesis run: id -> the caller that made it.
    owners: dict[str, str] = field(default_factory=dict)

    def stub(self, who: str, replica: int = 0) -> tuple[grpc.Channel, Stub]:
        issued = self.callers[who]
        channel = open_channel(
            self.gateways[replica].address,
            ca_file=str(self.ca.cert_file),
            cert_file=str(issued.cert_file),
            key_file=str(issued.key_file),
        )
        return channel, Stub(channel)

    def audit(self) -> list[dict[str, object]]:
        return [
            json.loads(line)
            for audit_file in self.audit_files
            if audit_file.exists()
            for line in audit_file.read_text().splitlines()
        ]


def _boundary(
    emulator: Emulator, folder: Path, replicas: int, extra_env: dict[str, str]
) -> Boundary:
    ca = Authority(folder, "internal")
    server = ca.issue("gateway", "graphrestore", server=True)
    (folder / "policy.toml").write_text(POLICY)
    audit_files = [folder / f"audit-{i}.jsonl" for i in range(replicas)]
    gateways = [
        start_gateway(
            {
                **emulator.gateway_env(),
                "GRAPHRESTORE_AUTH": "mtls",
                "GRAPHRESTORE_TLS_CERT_FILE": str(server.cert_file),
                "GRAPHRESTORE_TLS_KEY_FILE": str(server.key_file),
                "GRAPHRESTORE_CLIENT_CA_FILE": str(ca.cert_file),
                "GRAPHRESTORE_POLICY_FILE": str(folder / "policy.toml"),
                "GRAPHRESTORE_AUDIT_FILE": str(audit_file),
                "GRAPHRESTORE_MAX_WATCHES_PER_CALLER": "2",
                **extra_env,
            }
        )
        for audit_file in audit_files
    ]
    callers = {
        name: ca.issue(name, name, uri=uri)
        for name, uri in (
            ("alice", ALICE),
            ("bob", BOB),
            ("reader", READER),
            ("auditor", AUDITOR),
            ("admin", ADMIN),
        )
    }
    return Boundary(ca, gateways, audit_files, callers)


@pytest.fixture(scope="module")
def boundary(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Boundary]:
    setup = _boundary(emulator, tmp_path_factory.mktemp("boundary"), 1, {})
    yield setup
    for gateway in setup.gateways:
        assert gateway.stop() == 0


@pytest.fixture(scope="module")
def replicas(
    emulator: Emulator, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Boundary]:
    """Two gateways sharing one Redis, as two replicas behind a load balancer."""
    setup = _boundary(
        emulator,
        tmp_path_factory.mktemp("replicas"),
        2,
        {"GRAPHRESTORE_REDIS_URL": redis_url},
    )
    yield setup
    for gateway in setup.gateways:
        assert gateway.stop() == 0


def graph_paths_touching(emulator: Emulator, session_id: str, since: float = 0.0) -> list[str]:
    """Graph requests (since a time.time()) whose path names the session."""
    return [
        f"{r['method']} {r['path']}"
        for r in emulator.journal()
        if session_id in r["path"] and r["time"] >= since
    ]


def new_id() -> str:
    return str(uuid.uuid4())


def add_request(
    session_id: str, *points: str, destination: int = pb.DESTINATION_TYPE_NEW
) -> service_pb.AddDriveRestoreArtifactsRequest:
    return service_pb.AddDriveRestoreArtifactsRequest(
        restore_session_id=session_id,
        drive_restore_artifacts=[
            pb.DriveRestoreArtifact(
                restore_point=pb.RestorePoint(id=p), destination_type=destination
            )
            for p in points
        ],
        request_id=new_id(),
    )


def refused(method: object, request: object, **kwargs: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as failure:
        method(request, timeout=20, **kwargs)  # type: ignore[operator]
    return failure.value


def test_another_callers_session_is_not_found_for_every_rpc_and_graph_never_sees_it(
    boundary: Boundary, emulator: Emulator
) -> None:
    channel, alice = boundary.stub("alice")
    with channel:
        session = alice.CreateRestoreSession(
            create_request("rp-own-1", destination=pb.DESTINATION_TYPE_IN_PLACE), timeout=20
        )
    sid = session.id
    since = time.time()
    attempts = [
        ("GetRestoreSession", service_pb.GetRestoreSessionRequest(restore_session_id=sid)),
        (
            "ActivateRestoreSession",
            service_pb.ActivateRestoreSessionRequest(restore_session_id=sid, request_id=new_id()),
        ),
        (
            "DeleteRestoreSession",
            service_pb.DeleteRestoreSessionRequest(restore_session_id=sid, request_id=new_id()),
        ),
        (
            "RemoveDriveRestoreArtifacts",
            service_pb.RemoveDriveRestoreArtifactsRequest(
                restore_session_id=sid, drive_restore_artifact_ids=["a-1"], request_id=new_id()
            ),
        ),
        ("AddDriveRestoreArtifacts", add_request(sid, "rp-bob-1")),
        (
            "ListDriveRestoreArtifacts",
            service_pb.ListDriveRestoreArtifactsRequest(restore_session_id=sid),
        ),
        (
            "ListDriveRestoreArtifactsBulkAdditionRequests",
            service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsRequest(restore_session_id=sid),
        ),
        (
            "GetDriveRestoreArtifactsBulkAdditionRequest",
            service_pb.GetDriveRestoreArtifactsBulkAdditionRequestRequest(
                restore_session_id=sid, bulk_addition_request_id="b-1"
            ),
        ),
    ]
    bulk = bulk_request(drives=["user00001@contoso.com"])
    bulk.restore_session_id = sid
    attempts.append(("CreateDriveRestoreArtifactsBulkAdditionRequest", bulk))
    channel, bob = boundary.stub("bob")
    with channel:
        for name, request in attempts:
            failure = refused(getattr(bob, name), request)
            assert failure.code() == grpc.StatusCode.NOT_FOUND, name
        watch = bob.WatchRestoreSession(
            service_pb.WatchRestoreSessionRequest(restore_session_id=sid), timeout=20
        )
        with pytest.raises(grpc.RpcError) as failure:
            next(watch)
        assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    # Nothing of Bob's reached Graph: the session's paths saw no new request.
    assert graph_paths_touching(emulator, sid, since) == []
    channel, alice = boundary.stub("alice")
    with channel:
        assert (
            alice.GetRestoreSession(
                service_pb.GetRestoreSessionRequest(restore_session_id=sid), timeout=20
            ).status
            == pb.RESTORE_SESSION_STATUS_DRAFT
        )
    denials = [r for r in boundary.audit() if r["caller"] == BOB and r["decision"] == "denied"]
    assert {r["reason"] for r in denials} == {"SESSION_NOT_VISIBLE"}


def test_list_shows_own_sessions_and_any_shows_the_tenant(
    boundary: Boundary, emulator: Emulator
) -> None:
    with emulator.graph_client() as graph:
        outside = graph.post(
            "/oneDriveForBusinessRestoreSessions",
            json={
                "driveRestoreArtifacts": [
                    {"restorePoint": {"id": "rp-outside"}, "destinationType": "new"}
                ]
            },
        ).json()["id"]
    channel, alice = boundary.stub("alice")
    with channel:
        mine = alice.CreateRestoreSession(create_request("rp-list-1"), timeout=20).id
        listed = alice.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=1000), timeout=20
        )
    alices = {s.id for s in listed.restore_sessions}
    assert mine in alices
    channel, reader = boundary.stub("reader")
    with channel:
        seen = reader.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=1000), timeout=20
        )
    assert not seen.restore_sessions
    channel, auditor = boundary.stub("auditor")
    with channel:
        everything = auditor.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=1000), timeout=20
        )
    assert alices | {outside} <= {s.id for s in everything.restore_sessions}
    assert outside not in alices


def test_activation_is_checked_against_what_the_session_holds(
    boundary: Boundary, emulator: Emulator
) -> None:
    channel, alice = boundary.stub("alice")
    with channel:
        in_place = alice.CreateRestoreSession(
            create_request("rp-hold-1", destination=pb.DESTINATION_TYPE_IN_PLACE), timeout=20
        )
    channel, admin = boundary.stub("admin")  # sees every session, may restore to new only
    with channel:
        failure = refused(
            admin.ActivateRestoreSession,
            service_pb.ActivateRestoreSessionRequest(
                restore_session_id=in_place.id, request_id=new_id()
            ),
        )
        assert failure.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_info(failure).reason == "DESTINATION_TYPE_NOT_ALLOWED"
        failure = refused(
            admin.DeleteRestoreSession,
            service_pb.DeleteRestoreSessionRequest(
                restore_session_id=in_place.id, request_id=new_id()
            ),
        )
        assert error_info(failure).reason == "DESTINATION_TYPE_NOT_ALLOWED"
    assert not [
        p for p in graph_paths_touching(emulator, in_place.id) if p.startswith(("POST", "DELETE"))
    ]


def test_a_cn_that_looks_like_a_spiffe_id_is_just_a_name(boundary: Boundary) -> None:
    boundary.callers["spoof"] = boundary.ca.issue("spoof", ADMIN)  # CN only, no URI SAN
    channel, spoof = boundary.stub("spoof")
    with channel:
        failure = refused(spoof.ListRestoreSessions, service_pb.ListRestoreSessionsRequest())
    assert failure.code() == grpc.StatusCode.PERMISSION_DENIED
    info = error_info(failure)
    assert (info.reason, info.metadata["caller"]) == ("UNKNOWN_CALLER", f"cn:{ADMIN}")


def test_a_certificate_with_two_uri_sans_is_refused_and_audited(boundary: Boundary) -> None:
    boundary.callers["twins"] = boundary.ca.issue("twins", "t", uri=ADMIN, more_uris=(READER,))
    channel, twins = boundary.stub("twins")
    with channel:
        failure = refused(twins.CreateRestoreSession, create_request("rp-twins"))
    assert failure.code() == grpc.StatusCode.UNAUTHENTICATED
    assert wait_for(
        lambda: any(
            r["reason"] == "UNAUTHENTICATED" and r["rpc"] == "CreateRestoreSession"
            for r in boundary.audit()
        ),
        within_s=5,
    )


def concurrent_adds(boundary: Boundary, session_id: str, calls: int) -> list[grpc.StatusCode]:
    """`calls` Adds of 4 drives each, at once, through every replica in turn."""

    def add(index: int) -> grpc.StatusCode:
        channel, alice = boundary.stub("alice", index % len(boundary.gateways))
        with channel:
            try:
                alice.AddDriveRestoreArtifacts(
                    add_request(session_id, *(f"rp-c{index}-{i}" for i in range(4))), timeout=30
                )
            except grpc.RpcError as error:
                assert error_info(error).reason == "TOO_MANY_ARTIFACTS"
                return error.code()
            return grpc.StatusCode.OK

    with ThreadPoolExecutor(calls) as pool:
        return list(pool.map(add, range(calls)))


@pytest.mark.parametrize("setup", ["boundary", "replicas"])
def test_max_artifacts_holds_under_concurrent_additions(
    setup: str, request: pytest.FixtureRequest
) -> None:
    boundary: Boundary = request.getfixturevalue(setup)
    channel, alice = boundary.stub("alice")  # at most 5 drives per session
    with channel:
        session = alice.CreateRestoreSession(create_request(f"rp-max-{setup}"), timeout=20)
        outcomes = concurrent_adds(boundary, session.id, 10)
        held = alice.GetRestoreSession(
            service_pb.GetRestoreSessionRequest(restore_session_id=session.id), timeout=20
        ).restore_session_artifact_count.total
    assert outcomes.count(grpc.StatusCode.OK) == 1
    assert held == 5


def test_a_failed_size_lookup_refuses_instead_of_allowing(
    boundary: Boundary, emulator: Emulator
) -> None:
    channel, alice = boundary.stub("alice")
    with channel:
        session = alice.CreateRestoreSession(create_request("rp-lookup-1"), timeout=20)
        emulator.fault(
            method="GET",
            path=f"{CREATE}/{session.id}$",
            kind="status",
            status=429,
            retry_after_s=1,
            times=10,
        )
        failure = refused(alice.AddDriveRestoreArtifacts, add_request(session.id, "rp-l-2"))
    assert failure.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(failure).reason == "POLICY_FACTS_UNAVAILABLE"
    assert retry_delay_s(failure)
    assert not [p for p in graph_paths_touching(emulator, session.id) if p.startswith("PATCH")]


def test_count_and_destination_are_refused_before_any_graph_call(
    boundary: Boundary, emulator: Emulator
) -> None:
    received = sum(emulator.counters()["received"].values())
    channel, bob = boundary.stub("bob")  # new only
    with channel:
        in_place = create_request(
            *(f"rp-dest-{i}" for i in range(5000)), destination=pb.DESTINATION_TYPE_IN_PLACE
        )
        assert error_info(refused(bob.CreateRestoreSession, in_place)).reason == (
            "DESTINATION_TYPE_NOT_ALLOWED"
        )
    channel, alice = boundary.stub("alice")  # at most 5
    with channel:
        too_many = create_request(*(f"rp-many-{i}" for i in range(60_000)))
        assert refused(alice.CreateRestoreSession, too_many).code() == (
            grpc.StatusCode.INVALID_ARGUMENT
        )
        six = create_request(*(f"rp-six-{i}" for i in range(6)))
        assert error_info(refused(alice.CreateRestoreSession, six)).reason == ("TOO_MANY_ARTIFACTS")
    # Token requests aside, Graph saw nothing of the three.
    assert sum(emulator.counters()["received"].values()) == received


def test_forged_and_foreign_page_tokens_are_refused(boundary: Boundary, emulator: Emulator) -> None:
    channel, admin = boundary.stub("admin")
    with channel:
        for index in range(3):
            admin.CreateRestoreSession(create_request(f"rp-page-{index}"), timeout=20)
        first = admin.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=1), timeout=20
        )
        assert first.next_page_token
        second = admin.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=1, page_token=first.next_page_token),
            timeout=20,
        )
        assert second.restore_sessions[0].id != first.restore_sessions[0].id
    forged = base64.urlsafe_b64encode(
        json.dumps({"$expand": "driveRestoreArtifacts", "$filter": "x"}).encode()
    ).decode()
    raw = base64.urlsafe_b64decode(first.next_page_token + "==")
    tampered = base64.urlsafe_b64encode(raw[:-2] + b'"}').decode().rstrip("=")
    channel, auditor = boundary.stub("auditor")
    with channel:
        for token in (forged, tampered, first.next_page_token):  # the last is admin's
            failure = refused(
                auditor.ListRestoreSessions,
                service_pb.ListRestoreSessionsRequest(page_size=1, page_token=token),
            )
            assert failure.code() == grpc.StatusCode.INVALID_ARGUMENT
            bad = details(failure)["BadRequest"]
            assert [v.field for v in bad.field_violations] == ["page_token"]  # type: ignore[attr-defined]
    assert not [r for r in emulator.journal() if "expand" in r["query"] and "filter" in r["query"]]


def test_each_caller_has_a_cap_on_open_watches(boundary: Boundary) -> None:
    channel, admin = boundary.stub("admin")
    with channel:
        session = admin.CreateRestoreSession(create_request("rp-watch-cap"), timeout=20)
        watch = service_pb.WatchRestoreSessionRequest(restore_session_id=session.id)
        open_streams = [admin.WatchRestoreSession(watch, timeout=30) for _ in range(2)]
        for stream in open_streams:
            assert next(stream).id == session.id
        with pytest.raises(grpc.RpcError) as failure:
            next(admin.WatchRestoreSession(watch, timeout=30))
        assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_info(failure.value).reason == "TOO_MANY_WATCHES"
        for stream in open_streams:
            stream.cancel()


def test_a_watch_outlives_failing_polls(boundary: Boundary, emulator: Emulator) -> None:
    channel, alice = boundary.stub("alice")
    with channel:
        session = alice.CreateRestoreSession(create_request("rp-watch-429"), timeout=20)
        stream = alice.WatchRestoreSession(
            service_pb.WatchRestoreSessionRequest(restore_session_id=session.id), timeout=60
        )
        assert next(stream).status == pb.RESTORE_SESSION_STATUS_DRAFT
        emulator.fault(
            method="GET",
            path=f"{CREATE}/{session.id}$",
            kind="status",
            status=503,
            times=8,  # more than one poll's retries: the poll itself fails, twice
        )
        alice.ActivateRestoreSession(
            service_pb.ActivateRestoreSessionRequest(
                restore_session_id=session.id, request_id=new_id()
            ),
            timeout=20,
        )
        assert next(stream).status != pb.RESTORE_SESSION_STATUS_DRAFT
        stream.cancel()


def test_reconciliation_never_adopts_another_callers_draft(
    boundary: Boundary, emulator: Emulator
) -> None:
    channel, alice = boundary.stub("alice")
    with channel:
        alices = alice.CreateRestoreSession(
            create_request("rp-shared", destination=pb.DESTINATION_TYPE_IN_PLACE), timeout=20
        )
    channel, bob = boundary.stub("bob")
    with channel:
        request = create_request("rp-shared")
        emulator.fault(method="POST", path=f"{CREATE}$", kind="drop")
        with pytest.raises(grpc.RpcError):
            bob.CreateRestoreSession(request, timeout=20)
        bobs = bob.CreateRestoreSession(request, timeout=20)
        held = bob.ListDriveRestoreArtifacts(
            service_pb.ListDriveRestoreArtifactsRequest(restore_session_id=bobs.id), timeout=20
        ).drive_restore_artifacts
    assert bobs.id != alices.id
    assert [(a.restore_point.id, a.destination_type) for a in held] == [
        ("rp-shared", pb.DESTINATION_TYPE_NEW)
    ]
    [record] = [
        r
        for r in boundary.audit()
        if r["request_id"] == request.request_id and r["outcome"] == "OK"
    ]
    assert record["restore_session_id"] == bobs.id


@pytest.mark.parametrize("setup", ["boundary", "replicas"])
def test_ownership_is_shared_by_replicas(setup: str, request: pytest.FixtureRequest) -> None:
    boundary: Boundary = request.getfixturevalue(setup)
    last = len(boundary.gateways) - 1
    channel, alice = boundary.stub("alice", 0)
    with channel:
        session = alice.CreateRestoreSession(create_request(f"rp-rep-{setup}"), timeout=20)
    channel, alice_elsewhere = boundary.stub("alice", last)
    with channel:
        assert (
            alice_elsewhere.GetRestoreSession(
                service_pb.GetRestoreSessionRequest(restore_session_id=session.id), timeout=20
            ).id
            == session.id
        )
    channel, bob_elsewhere = boundary.stub("bob", last)
    with channel:
        failure = refused(
            bob_elsewhere.GetRestoreSession,
            service_pb.GetRestoreSessionRequest(restore_session_id=session.id),
        )
    assert failure.code() == grpc.StatusCode.NOT_FOUND


SESSION_METHODS = [
    "GetRestoreSession",
    "ListDriveRestoreArtifacts",
    "AddDriveRestoreArtifacts",
    "RemoveDriveRestoreArtifacts",
    "ActivateRestoreSession",
    "DeleteRestoreSession",
    "ListDriveRestoreArtifactsBulkAdditionRequests",
]
SCOPES = {"alice": "own", "bob": "own", "reader": "own", "auditor": "any", "admin": "any"}
CLEAN = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def session_call(method: str, session_id: str) -> Any:
    request_id = new_id()
    return {
        "GetRestoreSession": service_pb.GetRestoreSessionRequest(restore_session_id=session_id),
        "ListDriveRestoreArtifacts": service_pb.ListDriveRestoreArtifactsRequest(
            restore_session_id=session_id
        ),
        "AddDriveRestoreArtifacts": add_request(session_id, f"rp-h-{request_id[:8]}"),
        "RemoveDriveRestoreArtifacts": service_pb.RemoveDriveRestoreArtifactsRequest(
            restore_session_id=session_id, drive_restore_artifact_ids=["x"], request_id=request_id
        ),
        "ActivateRestoreSession": service_pb.ActivateRestoreSessionRequest(
            restore_session_id=session_id, request_id=request_id
        ),
        "DeleteRestoreSession": service_pb.DeleteRestoreSessionRequest(
            restore_session_id=session_id, request_id=request_id
        ),
        "ListDriveRestoreArtifactsBulkAdditionRequests": (
            service_pb.ListDriveRestoreArtifactsBulkAdditionRequestsRequest(
                restore_session_id=session_id
            )
        ),
    }[method]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_callers_sessions_and_ids_never_cross_ownership(
    boundary: Boundary, emulator: Emulator, data: st.DataObject
) -> None:
    owners = boundary.owners
    if not owners:
        for name in ("alice", "bob", "admin"):
            channel, stub = boundary.stub(name)
            with channel:
                for index in range(2):
                    owners[
                        stub.CreateRestoreSession(
                            create_request(f"rp-h-{name}-{index}"), timeout=20
                        ).id
                    ] = name
    caller = data.draw(st.sampled_from(sorted(SCOPES)))
    session_id = data.draw(
        st.one_of(
            st.sampled_from(sorted(owners)),
            st.sampled_from(["", ".", "..", "x\n", "a/b", str(uuid.uuid4())]),
            st.text(max_size=40),
        )
    )
    method = data.draw(st.sampled_from(SESSION_METHODS))
    since = time.time()
    channel, stub = boundary.stub(caller)
    with channel:
        try:
            getattr(stub, method)(session_call(method, session_id), timeout=20)
            code = grpc.StatusCode.OK
        except grpc.RpcError as error:
            code = error.code()
    assert code in CLEAN, (caller, method, session_id, code)
    foreign = session_id in owners and owners[session_id] != caller
    if foreign and SCOPES[caller] == "own":
        assert code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)
        assert graph_paths_touching(emulator, session_id, since) == []


def test_replicas_share_the_page_token_key(replicas: Boundary) -> None:
    channel, admin = replicas.stub("admin", 0)
    with channel:
        for index in range(2):
            admin.CreateRestoreSession(create_request(f"rp-pages-{index}"), timeout=20)
        first = admin.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=1), timeout=20
        )
    channel, admin_elsewhere = replicas.stub("admin", 1)
    with channel:
        second = admin_elsewhere.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=1, page_token=first.next_page_token),
            timeout=20,
        )
    assert second.restore_sessions[0].id != first.restore_sessions[0].id


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def mailbox_replicas(
    request: pytest.FixtureRequest, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[MailboxGateway], list[str]]]:
    """Exchange callers (mailbox units 10 to 12 of the shared emulator): one gateway on
    SQLite, or two replicas sharing Redis (what one records, the other reads)."""
    units = mailbox_units(emulator, 13)[10:]
    rules = {
        "owner": Rule("spiffe://corp/ns/o/sa/owner", units=(units[1],)),
        # Sees every session, but may restore only mailbox 10, and only to new places.
        "narrow": Rule(
            "spiffe://corp/ns/n/sa/narrow", destinations=("new",), units=(units[0],), sessions="any"
        ),
        "admin": Rule("spiffe://corp/ns/ops/sa/mailbox-admin", sessions="any"),
    }
    env, replicas = {}, 1
    if request.param == "redis":
        env, replicas = {"GRAPHRESTORE_REDIS_URL": request.getfixturevalue("redis_url")}, 2
    folder = tmp_path_factory.mktemp(f"mailboxes-{request.param}")
    gateways = [
        start_mailbox_gateway(emulator, folder / f"replica-{i}", rules, env)
        for i in range(replicas)
    ]
    yield gateways, units
    for started in gateways:
        assert started.mtls.gateway.stop() == 0


def test_granular_drafts_are_changed_only_by_callers_whose_rule_allows_what_they_hold(
    mailbox_replicas: tuple[list[MailboxGateway], list[str]], emulator: Emulator
) -> None:
    """Graph lists no granular mailbox artifacts: what a granular draft holds is the
    gateway's record of its create (shared by the replicas), and a draft made outside the
    gateway holds what no one can know. A caller that sees every session but may restore
    one mailbox to new places changes neither another mailbox's drafts nor the unknowable
    one, and Graph never sees it try; a caller without such limits changes them all."""
    gateways, units = mailbox_replicas
    first, last = gateways[0], gateways[-1]
    with first.stub("owner") as owner:
        search_id, points = search(owner, units[1])
        in_place = owner.CreateRestoreSession(
            granular_request(search_id, points[:1], pb.DESTINATION_TYPE_IN_PLACE), timeout=20
        ).id
        to_new = owner.CreateRestoreSession(granular_request(search_id, points[1:2]), timeout=20).id
    outside, _ = outside_granular(emulator, units[2], 1, pb.DESTINATION_TYPE_NEW)
    refusals = {
        in_place: "DESTINATION_TYPE_NOT_ALLOWED",
        to_new: "PROTECTION_UNIT_NOT_ALLOWED",
        outside: "SESSION_CONTENTS_UNKNOWN",
    }
    since = time.time()
    with last.stub("narrow") as narrow:
        for session_id, reason in refusals.items():
            for change in (activate, delete):
                with pytest.raises(grpc.RpcError) as failure:
                    change(narrow, session_id)
                assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
                assert error_info(failure.value).reason == reason
    for session_id in refusals:
        touched = graph_paths_touching(emulator, session_id, since)
        assert not [p for p in touched if p.startswith(("POST", "DELETE"))]
    denials = [r for r in last.audit() if r["decision"] == "denied"]
    assert sorted((r["restore_session_id"], r["reason"]) for r in denials) == sorted(
        [(s, reason) for s, reason in refusals.items()] * 2
    )
    with last.stub("admin") as admin:
        assert activate(admin, in_place).status != pb.RESTORE_SESSION_STATUS_DRAFT
        delete(admin, to_new)
        assert activate(admin, outside).status != pb.RESTORE_SESSION_STATUS_DRAFT
