"""One restore per request_id: retries get the first answer, lost answers and crashed
gateways are reconciled with Graph, and replicas sharing Redis agree."""

from __future__ import annotations

import contextlib
import json
import signal
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from helpers import create_request, details, error_info, retry_delay_s, wait_for
from processes import CREATE_PATH, Emulator, Gateway, own_gateway, start_gateway

Stub = service_grpc.OneDriveRestoreServiceStub


def sessions_created(emulator: Emulator) -> int:
    return int(emulator.counters()["sessions_created"])


def test_a_retry_gets_the_first_session_and_creates_nothing(emulator: Emulator, stub: Stub) -> None:
    request = create_request("rp-once-1", "rp-once-2")
    before = sessions_created(emulator)
    first = stub.CreateRestoreSession(request, timeout=10)
    again = stub.CreateRestoreSession(request, timeout=10)
    assert again == first
    assert sessions_created(emulator) == before + 1


def test_the_same_request_id_with_another_body_is_refused(stub: Stub) -> None:
    request = create_request("rp-body-1")
    stub.CreateRestoreSession(request, timeout=10)
    other = create_request("rp-body-2")
    other.request_id = request.request_id
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(other, timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = details(failure.value)["BadRequest"].field_violations  # type: ignore[attr-defined]
    assert [v.field for v in violations] == ["request_id"]


def test_concurrent_duplicates_wait_for_the_first(emulator: Emulator, stub: Stub) -> None:
    emulator.fault_on_create(kind="delay", delay_s=0.5)
    request = create_request("rp-dup")
    before = sessions_created(emulator)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: stub.CreateRestoreSession(request, timeout=20), range(8)))
    assert len({a.id for a in answers}) == 1
    assert sessions_created(emulator) == before + 1


def test_a_slow_graph_call_keeps_its_lease_so_a_retry_waits_instead_of_creating_again(
    emulator: Emulator, stub: Stub
) -> None:
    """The first attempt's lease (LEASE_S, 10 s) is renewed while Graph takes longer than
    that: a retry after 11.5 s finds the first attempt still alive and waits for its answer.
    Were the lease not renewed, the retry would take it over and create a second session."""
    emulator.fault_on_create(kind="delay", delay_s=13)
    request = create_request("rp-slow-lease")
    posts_before = emulator.posts_to_create()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(stub.CreateRestoreSession, request, timeout=40)
        threading.Event().wait(11.5)
        retry = pool.submit(stub.CreateRestoreSession, request, timeout=40)
        assert retry.result() == first.result()
    assert emulator.posts_to_create() == posts_before + 1


def test_a_refusal_is_replayed_too(emulator: Emulator, stub: Stub) -> None:
    emulator.fault_on_create(kind="status", status=400, code="InvalidRestorePoint")
    request = create_request("rp-refused")
    codes = []
    for _ in range(2):
        with pytest.raises(grpc.RpcError) as failure:
            stub.CreateRestoreSession(request, timeout=10)
        codes.append((failure.value.code(), error_info(failure.value).reason))
    assert codes == [(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_RESTORE_POINT")] * 2


def test_a_lost_answer_is_reconciled_on_retry(emulator: Emulator, stub: Stub) -> None:
    emulator.fault_on_create(kind="apply_then_drop")
    request = create_request("rp-lost-a", "rp-lost-b")
    before = sessions_created(emulator)
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(request, timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert sessions_created(emulator) == before + 1
    session = stub.CreateRestoreSession(request, timeout=30)
    assert session.restore_session_artifact_count.total == 2
    assert sessions_created(emulator) == before + 1
    assert stub.CreateRestoreSession(request, timeout=10) == session


def test_a_gateway_killed_between_graph_and_reply_is_reconciled(emulator: Emulator) -> None:
    state_dir = tempfile.mkdtemp(prefix="gateway-state-")
    env = {**emulator.gateway_env(), "GRAPHRESTORE_STATE_DIR": state_dir}
    points = [f"rp-kill-{i}" for i in range(70)]  # create + one PATCH
    request = create_request(*points)
    before = sessions_created(emulator)
    emulator.fault_on_create(kind="apply_then_drop", delay_s=30)
    doomed = start_gateway(env)
    caller = threading.Thread(target=lambda: call_ignoring_errors(doomed, request), daemon=True)
    caller.start()
    assert wait_for(lambda: sessions_created(emulator) == before + 1, within_s=15)
    doomed.process.send_signal(signal.SIGKILL)
    doomed.process.wait(timeout=10)
    emulator.clear_faults()
    with own_gateway(env) as (_, stub):
        session = stub.CreateRestoreSession(request, timeout=30)
        assert stub.CreateRestoreSession(request, timeout=10) == session
    assert session.restore_session_artifact_count.total == 70
    assert sessions_created(emulator) == before + 1


def call_ignoring_errors(gateway: Gateway, request: service_pb.CreateRestoreSessionRequest) -> None:
    with grpc.insecure_channel(gateway.address) as channel, contextlib.suppress(grpc.RpcError):
        service_grpc.OneDriveRestoreServiceStub(channel).CreateRestoreSession(request, timeout=60)


def test_replicas_sharing_redis_create_once(emulator: Emulator, redis_url: str) -> None:
    env = {**emulator.gateway_env(), "GRAPHRESTORE_REDIS_URL": redis_url}
    request = create_request("rp-redis-1")
    before = sessions_created(emulator)
    emulator.fault_on_create(kind="delay", delay_s=0.5)
    with (
        own_gateway(env) as (_, first),
        own_gateway(env) as (_, second),
        ThreadPoolExecutor(6) as pool,
    ):
        answers = list(
            pool.map(
                lambda i: (first if i % 2 else second).CreateRestoreSession(request, timeout=20),
                range(6),
            )
        )
    assert len({a.id for a in answers}) == 1
    assert sessions_created(emulator) == before + 1


def test_a_replica_killed_mid_create_is_reconciled_by_the_other(
    emulator: Emulator, redis_url: str
) -> None:
    env = {**emulator.gateway_env(), "GRAPHRESTORE_REDIS_URL": redis_url}
    request = create_request(f"rp-replica-{uuid.uuid4().hex[:8]}")
    before = sessions_created(emulator)
    emulator.fault_on_create(kind="apply_then_drop", delay_s=30)
    doomed = start_gateway(env)
    threading.Thread(target=lambda: call_ignoring_errors(doomed, request), daemon=True).start()
    assert wait_for(lambda: sessions_created(emulator) == before + 1, within_s=15)
    doomed.process.send_signal(signal.SIGKILL)
    doomed.process.wait(timeout=10)
    emulator.clear_faults()
    with own_gateway(env) as (_, survivor):
        # The dead replica's lease runs out (10 s) before the survivor reconciles.
        session = survivor.CreateRestoreSession(request, timeout=40)
    assert session.restore_session_artifact_count.total == 1
    assert sessions_created(emulator) == before + 1


def test_a_lost_bulk_answer_is_reconciled_not_repeated(emulator: Emulator, stub: Stub) -> None:
    from test_lifecycle import bulk_request

    request = bulk_request(drives=["user00090@contoso.com", "user00091@contoso.com"])
    request.bulk_addition_request.display_name = f"lost answer {uuid.uuid4()}"
    emulator.fault(
        kind="apply_then_drop", method="POST", path="driveRestoreArtifactsBulkAdditionRequests$"
    )
    sessions_before = sessions_created(emulator)
    received = emulator.counters()["received"]
    bulk_route = f"POST {CREATE_PATH}/{{id}}/driveRestoreArtifactsBulkAdditionRequests"
    bulk_posts_before = received.get(bulk_route, 0)
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateDriveRestoreArtifactsBulkAdditionRequest(request, timeout=20)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    bulk = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(request, timeout=30)
    assert sorted(bulk.drives) == ["user00090@contoso.com", "user00091@contoso.com"]
    assert emulator.counters()["received"].get(bulk_route, 0) == bulk_posts_before + 1
    assert sessions_created(emulator) == sessions_before + 1


def test_no_create_is_answered_ok_while_its_audit_record_cannot_be_written(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The audit file turns into something that cannot be appended to (here a folder)
    while the gateway runs: the create fails instead of being answered OK unaudited, and
    the caller's retry, once the file is back, gets the session made and its record. The
    caller is told to come back (UNAVAILABLE), never where the file lives."""
    audit_file = tmp_path / "audit.jsonl"
    env = {**emulator.gateway_env(), "GRAPHRESTORE_AUDIT_FILE": str(audit_file)}
    request = create_request("rp-unaudited")
    with own_gateway(env) as (gateway, stub):
        audit_file.unlink(missing_ok=True)
        audit_file.mkdir()
        try:
            with pytest.raises(grpc.RpcError) as failure:
                stub.CreateRestoreSession(request, timeout=10)
        finally:
            # Whatever happened, the gateway's audit path is a file again (the session's
            # last check reads every gateway's audit).
            audit_file.rmdir()
        refused = failure.value
        assert refused.code() == grpc.StatusCode.UNAVAILABLE
        assert error_info(refused).reason == "AUDIT_UNAVAILABLE"
        assert str(tmp_path) not in (refused.details() or "")
        assert retry_delay_s(refused) is not None
        # Logged before the answer left, but read from the process's stderr by a thread.
        assert wait_for(
            lambda: any("audit record not written" in line for line in gateway.log_lines), 10
        )
        answer = stub.CreateRestoreSession(request, timeout=10)
        assert gateway.process.poll() is None
    records = [json.loads(line) for line in audit_file.read_text().splitlines()]
    assert [(r["request_id"], r["outcome"]) for r in records] == [(request.request_id, "OK")]
    assert records[0]["restore_session_id"] == answer.id
