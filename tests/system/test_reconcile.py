"""A retried create whose first answer was lost gets the session its first attempt made,
or a refusal: never another caller's draft, never one made outside the gateway, never a
plain draft for a granular request, never a draft an earlier request still pending asked
for; and a create whose caller gave up on it is recorded all the same, so its retry
replays it.

Each test's drafts have their own number of artifacts (past five, searched in two
mailboxes): an unowned granular draft is a candidate of every reconciliation asking for
as many, in this module's emulator. Each plain draft has restore points of its own."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from graphrestore.v1 import exchange_restore_service_pb2 as exchange_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as onedrive_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request, error_info, wait_for
from mailboxes import (
    SESSIONS,
    MailboxGateway,
    Rule,
    Stub,
    activate,
    emulator_sessions,
    granular_request,
    mailbox_units,
    outside_granular,
    outside_plain,
    search,
    start_mailbox_gateway,
    timestamp,
)
from processes import CREATE_PATH, Emulator, own_gateway, running_emulator, start_gateway

ALICE = "spiffe://corp/ns/a/sa/alice"
BOB = "spiffe://corp/ns/b/sa/bob"
CAROL = "spiffe://corp/ns/c/sa/carol"
ADMIN = "spiffe://corp/ns/ops/sa/admin"
DAVE = "spiffe://corp/ns/d/sa/dave"
# A create's answer arrives this long after it was sent; its caller gave up long before.
SLOW_CREATE_S = 1.5
SHORT_DEADLINE_S = 0.5


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def lab(store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator of each store's own: its drafts are the only candidates."""
    folder = tmp_path_factory.mktemp(f"reconcile-emulator-{store}")
    with running_emulator(folder, "--seed-mailboxes", "6") as emulator:
        yield emulator


@pytest.fixture(scope="module")
def units(lab: Emulator) -> list[str]:
    return mailbox_units(lab, 6)


def rules(units: list[str]) -> dict[str, Rule]:
    """Alice: mailbox 0, to new places only; Bob: mailbox 1; Carol: as Alice, but sees
    every session; admin and Dave: anything."""
    return {
        "alice": Rule(ALICE, destinations=("new",), units=(units[0],)),
        "bob": Rule(BOB, units=(units[1],)),
        "carol": Rule(CAROL, destinations=("new",), units=(units[0],), sessions="any"),
        "admin": Rule(ADMIN),
        "dave": Rule(DAVE),
    }


@pytest.fixture(scope="module")
def gateway(
    request: pytest.FixtureRequest,
    store: str,
    lab: Emulator,
    units: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MailboxGateway]:
    env = {}
    if store == "redis":
        env["GRAPHRESTORE_REDIS_URL"] = request.getfixturevalue("redis_url")
    folder = tmp_path_factory.mktemp(f"reconcile-{store}")
    started = start_mailbox_gateway(lab, folder, rules(units), env)
    yield started
    assert started.mtls.gateway.stop() == 0


def sessions_created(emulator: Emulator) -> int:
    return int(emulator.counters()["sessions_created"])


def refused_after_a_500(
    lab: Emulator,
    gateway: MailboxGateway,
    stub: Stub,
    request: service_pb.CreateRestoreSessionRequest,
    reason: str,
) -> dict[str, Any]:
    """Send a create that Graph answers with a 500 (nothing made, but the gateway cannot
    know it), then its retry: refused with `reason`. The audit record, whose candidates
    the caller is never told."""
    lab.fault(
        kind="status", method="POST", path=f"{SESSIONS}$", status=500, code="InternalServerError"
    )
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(request, timeout=20)
    assert failure.value.code() == grpc.StatusCode.INTERNAL
    assert error_info(failure.value).metadata["may_have_applied"] == "true"
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(request, timeout=20)
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(failure.value).reason == reason
    [record] = [
        r for r in gateway.audit() if r["request_id"] == request.request_id and "candidates" in r
    ]
    assert record["outcome"] == "FAILED_PRECONDITION"
    told = f"{failure.value.details()} {error_info(failure.value)}"
    assert not any(candidate in told for candidate in record["candidates"])
    return record


def drop_answer(
    lab: Emulator, stub: object, request: service_pb.CreateRestoreSessionRequest
) -> None:
    """Send a create that Graph makes, and whose answer is lost."""
    lab.fault(kind="apply_then_drop", method="POST", path=f"{SESSIONS}$")
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(request, timeout=20)  # type: ignore[attr-defined]
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


def granular_of(
    stub: Stub, searched: list[str], count: int, destination: int = pb.DESTINATION_TYPE_NEW
) -> service_pb.CreateRestoreSessionRequest:
    """A granular create of `count` messages' restore points found in `searched`
    mailboxes, one search each (a message search covers one mailbox)."""
    request = service_pb.CreateRestoreSessionRequest(request_id=str(uuid.uuid4()))
    for unit in searched:
        search_id, points = search(stub, unit)
        found = granular_request(search_id, points, destination).restore_session
        request.restore_session.granular_mailbox_restore_artifacts.extend(
            found.granular_mailbox_restore_artifacts
        )
    del request.restore_session.granular_mailbox_restore_artifacts[count:]
    return request


def cut_off(stub: object, request: service_pb.CreateRestoreSessionRequest) -> None:
    """Send a create whose answer comes after its caller's deadline."""
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(request, timeout=SHORT_DEADLINE_S)  # type: ignore[attr-defined]
    assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_a_retry_of_a_create_cut_off_by_its_deadline_never_gets_another_mailboxs_draft(
    lab: Emulator, units: list[str], gateway: MailboxGateway
) -> None:
    """The attack of issue 20: Alice, bound to mailbox 0, sends a granular create with a
    very short deadline while Bob's inPlace granular draft of mailbox 1 (also cut off by
    its deadline) and an unowned one made outside the gateway wait in Graph; her retry
    gets her own draft, and Bob's retry his."""
    outside, _ = outside_granular(lab, units[1], 1)
    before = sessions_created(lab)
    with gateway.stub("bob") as bob:
        bob_search, bob_points = search(bob, units[1])
        bobs = granular_request(bob_search, bob_points[:1], pb.DESTINATION_TYPE_IN_PLACE)
        lab.fault(kind="delay", method="POST", path=f"{SESSIONS}$", delay_s=SLOW_CREATE_S)
        cut_off(bob, bobs)
    with gateway.stub("alice") as alice:
        alice_search, alice_points = search(alice, units[0])
        alices = granular_request(alice_search, alice_points[:1])
        lab.fault(kind="delay", method="POST", path=f"{SESSIONS}$", delay_s=SLOW_CREATE_S)
        cut_off(alice, alices)
        assert wait_for(lab.answered_everything, within_s=10)
        mine = alice.CreateRestoreSession(alices, timeout=20)
        assert activate(alice, mine.id).status != pb.RESTORE_SESSION_STATUS_DRAFT
    with gateway.stub("bob") as bob:
        his = bob.CreateRestoreSession(bobs, timeout=20)
    assert mine.id not in (outside, his.id)
    held = emulator_sessions(lab)
    assert (held[mine.id], held[his.id]) == (alice_points[:1], bob_points[:1])
    assert sessions_created(lab) == before + 2
    [record] = [
        r for r in gateway.audit() if r["request_id"] == alices.request_id and r["outcome"] == "OK"
    ]
    assert record["restore_session_id"] == mine.id


def test_a_create_cut_off_by_its_deadline_is_recorded_and_its_retry_replays_it(
    lab: Emulator, units: list[str], gateway: MailboxGateway
) -> None:
    """Graph answers after the caller has gone: the owner and the answer are recorded
    all the same. Alice (who sees only her own sessions) finds the session listed before
    she retries, and the retry is answered from the record: no Graph request, one
    session made."""
    with gateway.stub("alice") as alice:

        def listed() -> list[str]:
            page = alice.ListRestoreSessions(
                service_pb.ListRestoreSessionsRequest(page_size=1000), timeout=20
            )
            return [s.id for s in page.restore_sessions]

        listed_before = listed()
        search_id, points = search(alice, units[0])
        request = granular_request(search_id, points[:2])
        before = sessions_created(lab)
        lab.fault(kind="delay", method="POST", path=f"{SESSIONS}$", delay_s=SLOW_CREATE_S)
        cut_off(alice, request)
        assert wait_for(lab.answered_everything, within_s=10)

        assert wait_for(lambda: len(listed()) > len(listed_before), within_s=10)
        received = sum(lab.counters()["received"].values())
        session = alice.CreateRestoreSession(request, timeout=20)
        assert sum(lab.counters()["received"].values()) == received
        assert session.id in listed()
    assert sessions_created(lab) == before + 1
    assert emulator_sessions(lab)[session.id] == points[:2]


def test_a_granular_retry_never_gets_a_plain_draft_of_the_same_restore_point(
    lab: Emulator, units: list[str], gateway: MailboxGateway
) -> None:
    """The plain draft is no candidate; the granular one the lost create made is the only
    one, but Graph shows nothing of it: refused, even to a caller without limits."""
    with gateway.stub("admin") as admin:
        search_id, points = search(admin, units[2])
        plain = outside_plain(lab, points[:3])
        request = granular_request(search_id, points[:3])
        drop_answer(lab, admin, request)
        [lost] = [
            i for i, held in emulator_sessions(lab).items() if held == points[:3] and i != plain
        ]
        before = sessions_created(lab)
        with pytest.raises(grpc.RpcError) as failure:
            admin.CreateRestoreSession(request, timeout=20)
    assert error_info(failure.value).reason == "RECONCILIATION_UNVERIFIABLE"
    assert sessions_created(lab) == before
    [record] = [
        r for r in gateway.audit() if r["request_id"] == request.request_id and "candidates" in r
    ]
    assert record["candidates"] == [lost]


def test_a_retry_that_could_adopt_either_of_two_drafts_is_refused_and_audited(
    lab: Emulator, units: list[str], gateway: MailboxGateway
) -> None:
    """A draft made outside the gateway looks like the one the lost create made (Graph
    lists neither's artifacts): the retry takes neither and makes nothing; the operator
    finds both in the audit record, the caller neither."""
    outside, _ = outside_granular(lab, units[3], 4)
    with gateway.stub("admin") as admin:
        search_id, points = search(admin, units[4])
        request = granular_request(search_id, points[:4])
        lab.fault(kind="apply_then_drop", method="POST", path=f"{SESSIONS}$")
        with pytest.raises(grpc.RpcError):
            admin.CreateRestoreSession(request, timeout=20)
        [lost] = [i for i, held in emulator_sessions(lab).items() if held == points[:4]]
        before = sessions_created(lab)
        refusals = []
        for _ in range(2):  # the refusal is replayed too
            with pytest.raises(grpc.RpcError) as failure:
                admin.CreateRestoreSession(request, timeout=20)
            refusals.append(failure.value)
    assert sessions_created(lab) == before
    for refused in refusals:
        assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error_info(refused).reason == "RECONCILIATION_AMBIGUOUS"
        told = f"{refused.details()} {error_info(refused)}"
        assert outside not in told and lost not in told
    [record] = [
        r for r in gateway.audit() if r["request_id"] == request.request_id and "candidates" in r
    ]
    assert record["outcome"] == "FAILED_PRECONDITION"
    assert sorted(record["candidates"]) == sorted([outside, lost])


def test_a_lost_granular_create_of_a_narrow_caller_is_refused_not_guessed(
    lab: Emulator, units: list[str], gateway: MailboxGateway
) -> None:
    """Graph lists nothing of a granular draft: the one draft that could be Alice's lost
    create might as well be another mailbox's, so her retry adopts nothing (she may
    restore only mailbox 0) and creates nothing again."""
    with gateway.stub("alice") as alice:
        search_id, points = search(alice, units[0])
        request = granular_request(search_id, points[:5])
        lab.fault(kind="apply_then_drop", method="POST", path=f"{SESSIONS}$")
        with pytest.raises(grpc.RpcError):
            alice.CreateRestoreSession(request, timeout=20)
        before = sessions_created(lab)
        with pytest.raises(grpc.RpcError) as failure:
            alice.CreateRestoreSession(request, timeout=20)
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(failure.value).reason == "RECONCILIATION_UNVERIFIABLE"
    assert sessions_created(lab) == before


@pytest.mark.parametrize("made_by", ["outside the gateway", "another caller"])
def test_a_failed_granular_create_of_an_unlimited_caller_never_adopts_a_draft_it_never_saw(
    lab: Emulator, units: list[str], gateway: MailboxGateway, made_by: str
) -> None:
    """Issue 20's first hole, again: admin (no limits at all) sends a granular create that
    Graph answers with a 500, and retries. The one granular draft of as many artifacts
    made since is another mailbox's, inPlace: made outside the gateway, or Dave's whose
    answer was lost. Graph shows nothing of it, so the retry takes nothing and makes
    nothing, and only the audit record names the draft; admin never activates it."""
    count = 6 if made_by == "outside the gateway" else 7
    if made_by == "outside the gateway":
        theirs, _ = outside_granular(lab, units[4:6], count)
    else:
        with gateway.stub("dave") as dave:
            daves = granular_of(dave, units[4:6], count, pb.DESTINATION_TYPE_IN_PLACE)
            drop_answer(lab, dave, daves)
        asked = [
            a.restore_point.id for a in daves.restore_session.granular_mailbox_restore_artifacts
        ]
        [theirs] = [i for i, held in emulator_sessions(lab).items() if held == asked]
    with gateway.stub("admin") as admin:
        request = granular_of(admin, units[2:4], count)
        before = sessions_created(lab)
        record = refused_after_a_500(lab, gateway, admin, request, "RECONCILIATION_UNVERIFIABLE")
    assert record["candidates"] == [theirs]
    assert sessions_created(lab) == before


def test_a_failed_plain_create_never_takes_the_draft_an_earlier_pending_request_made(
    lab: Emulator, units: list[str], gateway: MailboxGateway
) -> None:
    """Issue 20's first hole, for plain drafts: Alice's create is made in Graph, its
    answer lost; Carol, also allowed mailbox 0, asks for the same restore points, gets a
    500, and retries. Alice's request, pending, began first: the draft is hers. Carol's
    retry is refused (the audit names the draft and Alice's request); Alice's retry gets
    the draft, and no second session is made."""
    with gateway.stub("alice") as alice:
        _, points = search(alice, units[0])
        plain = [
            pb.MailboxRestoreArtifact(
                restore_point=pb.RestorePoint(id=p), destination_type=pb.DESTINATION_TYPE_NEW
            )
            for p in points[1:3]
        ]
        alices = service_pb.CreateRestoreSessionRequest(
            restore_session=pb.RestoreSession(mailbox_restore_artifacts=plain),
            request_id=str(uuid.uuid4()),
        )
        drop_answer(lab, alice, alices)
        [hers] = [i for i, held in emulator_sessions(lab).items() if held == points[1:3]]
        before = sessions_created(lab)
        carols = service_pb.CreateRestoreSessionRequest()
        carols.CopyFrom(alices)
        carols.request_id = str(uuid.uuid4())
        with gateway.stub("carol") as carol:
            record = refused_after_a_500(lab, gateway, carol, carols, "RECONCILIATION_CLAIMED")
        assert record["candidates"] == [hers]
        assert record["claimed_by"] == [
            f"{ALICE}|exchange:CreateRestoreSession|{alices.request_id}"
        ]
        session = alice.CreateRestoreSession(alices, timeout=20)
    assert session.id == hers
    assert sessions_created(lab) == before


def test_a_lost_bulk_answer_never_adopts_a_bulk_request_made_outside_the_gateway(
    lab: Emulator, gateway: MailboxGateway
) -> None:
    """A bulk request of the same name and mailboxes, but inPlace, waits in a draft made
    outside the gateway: the retry of a lost bulk answer gets the one its first attempt
    made, to new places."""
    name, mailboxes = f"quarterly {uuid.uuid4()}", ["user00005@contoso.com"]
    period = {"startDateTime": "2026-10-01T00:00:00Z", "endDateTime": "2026-11-01T00:00:00Z"}
    with lab.graph_client() as graph:
        outside = graph.post("/exchangeRestoreSessions", json={}).json()["id"]
        graph.post(
            f"/exchangeRestoreSessions/{outside}/mailboxRestoreArtifactsBulkAdditionRequests",
            json={
                "displayName": name,
                "destinationType": "inPlace",
                "protectionTimePeriod": period,
                "mailboxes": mailboxes,
            },
        ).raise_for_status()
    request = exchange_pb.CreateMailboxRestoreArtifactsBulkAdditionRequestRequest(
        bulk_addition_request=pb.MailboxRestoreArtifactsBulkAdditionRequest(
            display_name=name,
            destination_type=pb.DESTINATION_TYPE_NEW,
            protection_time_period=pb.TimePeriod(
                start_date_time=timestamp(datetime(2026, 10, 1, tzinfo=UTC)),
                end_date_time=timestamp(datetime(2026, 11, 1, tzinfo=UTC)),
            ),
            mailboxes=mailboxes,
        ),
        request_id=str(uuid.uuid4()),
    )
    with gateway.stub("admin") as admin:
        lab.fault(kind="apply_then_drop", method="POST", path="BulkAdditionRequests$")
        with pytest.raises(grpc.RpcError) as failure:
            admin.CreateMailboxRestoreArtifactsBulkAdditionRequest(request, timeout=20)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        before = sessions_created(lab)
        bulk = admin.CreateMailboxRestoreArtifactsBulkAdditionRequest(request, timeout=20)
    assert bulk.restore_session_id != outside
    assert bulk.destination_type == pb.DESTINATION_TYPE_NEW
    assert sessions_created(lab) == before


def test_a_create_whose_caller_gave_up_is_recorded_before_the_gateway_stops(
    lab: Emulator, store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """SIGTERM comes while Graph still works on a create whose caller has gone: the
    gateway waits for the answer and records it before it exits, so the retry, on the
    next gateway, replays it without asking Graph anything."""
    env = {**lab.gateway_env(), "GRAPHRESTORE_STATE_DIR": str(tmp_path / "state")}
    if store == "redis":
        env["GRAPHRESTORE_REDIS_URL"] = request.getfixturevalue("redis_url")
    create = create_request(f"rp-drain-{uuid.uuid4()}")
    before = sessions_created(lab)
    stopping = start_gateway(env)
    lab.fault(kind="delay", method="POST", path=f"{CREATE_PATH}$", delay_s=SLOW_CREATE_S)
    with grpc.insecure_channel(stopping.address) as channel:
        cut_off(onedrive_grpc.OneDriveRestoreServiceStub(channel), create)
    stopping.process.send_signal(signal.SIGTERM)
    assert stopping.process.wait(timeout=30) == 0
    with own_gateway(env) as (_, stub):
        received = sum(lab.counters()["received"].values())
        session = stub.CreateRestoreSession(create, timeout=20)
        assert sum(lab.counters()["received"].values()) == received
    assert sessions_created(lab) == before + 1
    assert emulator_sessions(lab)[session.id] == [
        create.restore_session.drive_restore_artifacts[0].restore_point.id
    ]
