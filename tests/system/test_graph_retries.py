"""Graph's failures read as Graph means them: only a 429 proves that nothing was done; a
503 with Retry-After asks the gateway to come back, and it looks before it sends a
create or an activation again; Retry-After may be an HTTP date; one 429 pauses every
caller, on every replica; a read that got no answer changed nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import grpc
import httpx
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import bulk_by_email, create_request, error_info, retry_delay_s, wait_for
from processes import CREATE_PATH, Emulator, Gateway, own_gateway
from prometheus_client.parser import text_string_to_metric_families

C = grpc.StatusCode
Stub = service_grpc.OneDriveRestoreServiceStub
ANY_SESSION = "/v1.0/solutions/backupRestore/restoreSessions"


def requests_to(emulator: Emulator, method: str, path: str) -> list[dict[str, object]]:
    return [r for r in emulator.journal() if r["method"] == method and r["path"] == path]


def activate(stub: Stub, session_id: str) -> pb.RestoreSession:
    return stub.ActivateRestoreSession(
        service_pb.ActivateRestoreSessionRequest(
            restore_session_id=session_id, request_id=str(uuid.uuid4())
        ),
        timeout=20,
    )


def test_a_create_answered_503_after_graph_made_the_draft_gives_one_session(
    emulator: Emulator, stub: Stub
) -> None:
    emulator.fault_on_create(
        kind="apply_then_status",
        status=503,
        code="serviceNotAvailable",
        retry_after_s=0.2,
    )
    created_before = emulator.counters()["sessions_created"]
    posts_before = emulator.posts_to_create()
    session = stub.CreateRestoreSession(create_request("rp-503-made"), timeout=20)
    # The draft the 503 hid was found and answered; no second create was sent.
    assert emulator.posts_to_create() == posts_before + 1
    assert emulator.counters()["sessions_created"] == created_before + 1
    [held] = stub.ListDriveRestoreArtifacts(
        service_pb.ListDriveRestoreArtifactsRequest(restore_session_id=session.id), timeout=10
    ).drive_restore_artifacts
    assert held.restore_point.id == "rp-503-made"


def test_a_create_answered_503_whose_draft_could_not_be_looked_for_is_reconciled_on_retry(
    emulator: Emulator, stub: Stub
) -> None:
    """The look after the 503 fails (Graph's list is down): the caller is told the create
    may have been made, and its retry with the same request_id finds that draft."""
    emulator.fault_on_create(
        kind="apply_then_status",
        status=503,
        code="serviceNotAvailable",
        retry_after_s=0.2,
    )
    emulator.fault(kind="status", method="GET", path=CREATE_PATH + "$", status=500, times=10)
    created_before = emulator.counters()["sessions_created"]
    request = create_request("rp-503-unseen")
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(request, timeout=20)
    assert error_info(failure.value).metadata["may_have_applied"] == "true"
    emulator.clear_faults()
    session = stub.CreateRestoreSession(request, timeout=20)
    assert session.id
    assert emulator.counters()["sessions_created"] == created_before + 1


def test_a_create_answered_503_before_graph_made_anything_is_sent_again(
    emulator: Emulator, stub: Stub
) -> None:
    emulator.fault_on_create(
        kind="status",
        status=503,
        code="serviceNotAvailable",
        retry_after_s=0.2,
    )
    created_before = emulator.counters()["sessions_created"]
    posts_before = emulator.posts_to_create()
    assert stub.CreateRestoreSession(create_request("rp-503-not-made"), timeout=20).id
    assert emulator.posts_to_create() == posts_before + 2
    assert emulator.counters()["sessions_created"] == created_before + 1


def test_an_activation_answered_503_after_it_went_through_answers_the_session(
    emulator: Emulator, stub: Stub
) -> None:
    session = stub.CreateRestoreSession(create_request("rp-503-activate"), timeout=20)
    path = f"{ANY_SESSION}/{session.id}/activate"
    emulator.fault(
        kind="apply_then_status",
        method="POST",
        path=path + "$",
        status=503,
        code="serviceNotAvailable",
        retry_after_s=0.2,
    )
    activated = activate(stub, session.id)
    assert activated.id == session.id
    assert activated.status != pb.RESTORE_SESSION_STATUS_DRAFT
    assert len(requests_to(emulator, "POST", path)) == 1


def test_a_resent_activation_refused_because_the_first_went_through_answers_the_session(
    emulator: Emulator, stub: Stub
) -> None:
    """Graph is eventually consistent: the session read after the 503 may still show the
    draft, and the activation sent again is refused (403) because the first went through."""
    session = stub.CreateRestoreSession(create_request("rp-503-lagging"), timeout=20)
    path = f"{ANY_SESSION}/{session.id}"
    with emulator.graph_client() as graph:
        draft = graph.get(f"/restoreSessions/{session.id}").json()
    assert draft["status"] == "draft"
    emulator.fault(
        kind="apply_then_status",
        method="POST",
        path=path + "/activate$",
        status=503,
        code="serviceNotAvailable",
        retry_after_s=0.2,
    )
    # The read after the 503 still shows the draft (the gateway made the session, so it
    # reads nothing before activating it).
    emulator.fault(kind="status", method="GET", path=path + "$", status=200, body=draft)
    activated = activate(stub, session.id)
    assert activated.status != pb.RESTORE_SESSION_STATUS_DRAFT
    assert len(requests_to(emulator, "POST", path + "/activate")) == 2


def test_a_retry_after_given_as_an_http_date_is_waited_for(emulator: Emulator, stub: Stub) -> None:
    session = stub.CreateRestoreSession(create_request("rp-http-date"), timeout=20)
    path = f"{CREATE_PATH}/{session.id}"
    emulator.fault(
        kind="status",
        method="GET",
        path=path + "$",
        status=503,
        code="serviceNotAvailable",
        retry_after_s=1,
        retry_after_date=True,
    )
    assert (
        stub.GetRestoreSession(
            service_pb.GetRestoreSessionRequest(restore_session_id=session.id), timeout=20
        ).id
        == session.id
    )
    refused, answered = requests_to(emulator, "GET", path)[-2:]
    # The date is at least a second after the 503 (whole seconds, rounded up).
    assert float(str(answered["time"])) - float(str(refused["time"])) >= 1.0


def add_artifact(stub: Stub, session_id: str) -> object:
    return stub.AddDriveRestoreArtifacts(
        service_pb.AddDriveRestoreArtifactsRequest(
            restore_session_id=session_id,
            drive_restore_artifacts=[
                pb.DriveRestoreArtifact(
                    restore_point=pb.RestorePoint(id="rp-503-change-2"),
                    destination_type=pb.DESTINATION_TYPE_NEW,
                )
            ],
            request_id=str(uuid.uuid4()),
        ),
        timeout=20,
    )


def delete(stub: Stub, session_id: str) -> object:
    return stub.DeleteRestoreSession(
        service_pb.DeleteRestoreSessionRequest(
            restore_session_id=session_id, request_id=str(uuid.uuid4())
        ),
        timeout=20,
    )


def add_bulk_request(stub: Stub, session_id: str) -> object:
    return stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
        bulk_by_email("user00001@contoso.com", session_id), timeout=20
    )


@pytest.mark.parametrize(
    ("method", "path", "send"),
    [
        ("PATCH", CREATE_PATH + "/{id}", add_artifact),
        ("DELETE", ANY_SESSION + "/{id}", delete),
        ("POST", CREATE_PATH + "/{id}/driveRestoreArtifactsBulkAdditionRequests", add_bulk_request),
    ],
)
def test_another_change_answered_503_is_never_sent_again_blindly(
    emulator: Emulator,
    stub: Stub,
    method: str,
    path: str,
    send: Callable[[Stub, str], object],
) -> None:
    """A PATCH, a DELETE or a bulk request Graph answered 503 after doing it: the caller
    is told it may have been applied (its retry with the same request_id reconciles), not
    answered what a second request found (a duplicate, a 404)."""
    session = stub.CreateRestoreSession(create_request("rp-503-change-1"), timeout=20)
    path = path.format(id=session.id)
    emulator.fault(
        kind="apply_then_status",
        method=method,
        path=path + "$",
        status=503,
        code="serviceNotAvailable",
        retry_after_s=0.2,
    )
    with pytest.raises(grpc.RpcError) as failure:
        send(stub, session.id)
    assert failure.value.code() == C.UNAVAILABLE
    assert error_info(failure.value).metadata["may_have_applied"] == "true"
    assert retry_delay_s(failure.value) == pytest.approx(0.2)
    assert len(requests_to(emulator, method, path)) == 1


def test_a_delete_answered_503_after_it_went_through_is_done_on_the_callers_retry(
    emulator: Emulator, stub: Stub
) -> None:
    session = stub.CreateRestoreSession(create_request("rp-503-delete"), timeout=20)
    emulator.fault(
        kind="apply_then_status",
        method="DELETE",
        path=f"{ANY_SESSION}/{session.id}$",
        status=503,
        code="serviceNotAvailable",
        retry_after_s=0.2,
    )
    request = service_pb.DeleteRestoreSessionRequest(
        restore_session_id=session.id, request_id=str(uuid.uuid4())
    )
    with pytest.raises(grpc.RpcError) as failure:
        stub.DeleteRestoreSession(request, timeout=20)
    assert failure.value.code() == C.UNAVAILABLE
    stub.DeleteRestoreSession(request, timeout=20)


def test_a_timed_out_read_does_not_say_a_change_may_have_been_applied(
    emulator: Emulator, stub: Stub
) -> None:
    session = stub.CreateRestoreSession(create_request("rp-slow-read"), timeout=20)
    path = f"{CREATE_PATH}/{session.id}$"
    emulator.fault(kind="delay", method="GET", path=path, delay_s=3)
    with pytest.raises(grpc.RpcError) as failure:
        stub.GetRestoreSession(
            service_pb.GetRestoreSessionRequest(restore_session_id=session.id), timeout=1
        )
    assert failure.value.code() == C.DEADLINE_EXCEEDED
    assert "may have been applied" not in (failure.value.details() or "")
    assert "may_have_applied" not in error_info(failure.value).metadata
    assert wait_for(emulator.answered_everything, within_s=10)


def test_a_read_whose_answers_were_all_lost_does_not_say_a_change_may_have_been_applied(
    emulator: Emulator, stub: Stub
) -> None:
    session = stub.CreateRestoreSession(create_request("rp-lost-read"), timeout=20)
    # More drops than attempts (aiohttp itself sends a read again on a dropped pooled
    # connection); the rest are cleared after the test.
    emulator.fault(kind="drop", method="GET", path=f"{CREATE_PATH}/{session.id}$", times=10)
    with pytest.raises(grpc.RpcError) as failure:
        stub.GetRestoreSession(
            service_pb.GetRestoreSessionRequest(restore_session_id=session.id), timeout=20
        )
    assert failure.value.code() == C.UNAVAILABLE
    info = error_info(failure.value)
    assert info.reason == "GRAPH_ANSWER_LOST"
    assert "may have been applied" not in (failure.value.details() or "")
    assert "may_have_applied" not in info.metadata


def metrics_url(gateway: Gateway) -> str:
    lines = gateway.log_lines
    assert wait_for(lambda: any("metrics listening" in line for line in lines), 5)
    [line] = [json.loads(x) for x in lines if "metrics listening" in x]
    return str(line["url"])


def sample(url: str, name: str) -> float:
    for family in text_string_to_metric_families(httpx.get(url).text):
        for found in family.samples:
            if found.name == name:
                return float(found.value)
    raise AssertionError(f"{name} is not exported")


def test_a_429_on_one_replica_pauses_another_replicas_calls_and_shows_in_metrics(
    emulator: Emulator, redis_url: str
) -> None:
    env = {
        **emulator.gateway_env(),
        "GRAPHRESTORE_REDIS_URL": redis_url,
        "GRAPHRESTORE_METRICS_LISTEN": "127.0.0.1:0",
    }
    with own_gateway(env) as (first_gateway, first), own_gateway(env) as (second_gateway, second):
        first_url, second_url = metrics_url(first_gateway), metrics_url(second_gateway)
        session = second.CreateRestoreSession(create_request("rp-replica-bystander"), timeout=20)
        emulator.fault_on_create(
            kind="status",
            status=429,
            code="TooManyRequests",
            retry_after_s=2,
        )
        throttled = first.CreateRestoreSession.future(create_request("rp-replica-429"), timeout=30)
        assert wait_for(lambda: sample(first_url, "graphrestore_graph_pause_seconds") > 0, 10)
        before = sample(second_url, "graphrestore_graph_throttled_seconds_total")
        bystander = second.GetRestoreSession(
            service_pb.GetRestoreSessionRequest(restore_session_id=session.id), timeout=30
        )
        assert bystander.id == session.id
        assert throttled.result().id
        # The other replica's call waited for the pause, and says so.
        assert sample(second_url, "graphrestore_graph_throttled_seconds_total") > before
        assert sample(first_url, "graphrestore_graph_throttled_seconds_total") > 0
    refused = next(
        r for r in requests_to(emulator, "POST", CREATE_PATH) if "rp-replica-429" in str(r["body"])
    )
    read = requests_to(emulator, "GET", f"{CREATE_PATH}/{session.id}")[-1]
    assert float(str(read["time"])) - float(str(refused["time"])) >= 1.9


def test_a_create_whose_session_could_not_be_read_back_names_the_session_it_made(
    emulator: Emulator, stub: Stub
) -> None:
    """More than 50 artifacts: a create, a PATCH, then a read of the session, whose
    answers are lost. The session was made all the same, and the failure says so."""
    emulator.fault(kind="drop", method="GET", path=CREATE_PATH + "/[^/]+$", times=10)
    request = create_request(*(f"rp-read-back-{i}" for i in range(51)))
    with pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(request, timeout=20)
    info = error_info(failure.value)
    assert info.reason == "GRAPH_ANSWER_LOST"
    assert info.metadata["may_have_applied"] == "true"
    made = info.metadata["restore_session_id"]
    emulator.clear_faults()
    # The caller's retry with the same request_id is answered that session.
    assert stub.CreateRestoreSession(request, timeout=20).id == made
