"""A caller's refused calls (invalid, denied; unauthenticated ones per peer address) have a
budget: past it, its calls are turned away before they are read, RESOURCE_EXHAUSTED with
RetryInfo, audited as one record that counts them, while other callers are served."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from helpers import create_request, error_info, retry_delay_s, wait_for
from processes import Emulator, MtlsGateway, start_mtls_gateway

Stub = service_grpc.OneDriveRestoreServiceStub
BUDGET = 30
POLICY = """
[[callers]]
id = "cn:*"
methods = ["CreateRestoreSession", "GetRestoreSession"]
destination_types = ["new"]
max_artifacts = 10
"""


@pytest.fixture(scope="module")
def mtls(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MtlsGateway]:
    env = {
        **emulator.gateway_env(),
        "GRAPHRESTORE_REFUSED_CALLS_PER_MINUTE": str(BUDGET),
    }
    gateway = start_mtls_gateway(env, tmp_path_factory.mktemp("refusals"), POLICY)
    yield gateway
    assert gateway.gateway.stop() == 0


def caller(mtls: MtlsGateway, *uris: str) -> tuple[grpc.Channel, Stub, str]:
    """A caller of its own (a fresh CN), and its id: each test spends its own budget."""
    name = f"caller-{uuid.uuid4().hex[:8]}"
    issued = mtls.ca.issue(name, name, *uris[:1], more_uris=uris[1:])
    return *mtls.stub(issued), f"cn:{name}"


def invalid_create() -> service_pb.CreateRestoreSessionRequest:
    return create_request("rp-twice", "rp-twice")


def code_of(call: Future[Any]) -> grpc.StatusCode:
    error = call.exception()
    assert isinstance(error, grpc.RpcError)
    return error.code()


def spend_budget(stub: Stub, expected: grpc.StatusCode) -> None:
    for _ in range(BUDGET):
        with pytest.raises(grpc.RpcError) as failure:
            stub.CreateRestoreSession(invalid_create(), timeout=10)
        assert failure.value.code() == expected


def audit(mtls: MtlsGateway) -> list[dict[str, Any]]:
    return [json.loads(line) for line in mtls.audit_file.read_text().splitlines()]


def test_a_flooding_caller_is_turned_away_while_another_is_served(mtls: MtlsGateway) -> None:
    flooding, flooder, _ = caller(mtls)
    serving, other, _ = caller(mtls)
    with flooding, serving:
        spend_budget(flooder, grpc.StatusCode.INVALID_ARGUMENT)
        # Past its budget: turned away unread (even a valid create), told when to come
        # back: when one more refusal fits, every 2 s.
        with pytest.raises(grpc.RpcError) as failure:
            flooder.CreateRestoreSession(create_request("rp-flooder-valid"), timeout=10)
        assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_info(failure.value).reason == "TOO_MANY_REFUSALS"
        assert retry_delay_s(failure.value) == pytest.approx(60 / BUDGET)
        # Another caller meanwhile, while the flooder keeps sending.
        flood = [
            flooder.CreateRestoreSession.future(invalid_create(), timeout=10) for _ in range(50)
        ]
        assert other.CreateRestoreSession(create_request("rp-bystander"), timeout=10).id
        codes = {code_of(call) for call in flood}
    assert codes <= {grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT}
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes


def test_calls_turned_away_are_audited_as_one_record_with_their_count(
    mtls: MtlsGateway,
) -> None:
    channel, flooder, flooder_id = caller(mtls)
    with channel:
        spend_budget(flooder, grpc.StatusCode.INVALID_ARGUMENT)
        flood = [
            flooder.CreateRestoreSession.future(invalid_create(), timeout=10) for _ in range(40)
        ]
        codes = [code_of(call) for call in flood]
    turned_away = codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert turned_away >= 30  # a refusal fits every 2 s: some of the 40 may be read

    def records(outcome: str) -> list[dict[str, Any]]:
        return [r for r in audit(mtls) if (r["caller"], r["outcome"]) == (flooder_id, outcome)]

    def counted() -> int:
        return sum(r["refused_calls"] for r in records("RESOURCE_EXHAUSTED"))

    assert wait_for(lambda: counted() == turned_away, within_s=15)
    [record] = records("RESOURCE_EXHAUSTED")
    assert (record["decision"], record["reason"]) == ("denied", "TOO_MANY_REFUSALS")
    assert record["rpc"] == "CreateRestoreSession" and record["peer"]
    # The calls read before it: one record each.
    assert len(records("INVALID_ARGUMENT")) == BUDGET + len(codes) - turned_away


def test_calls_without_an_identity_spend_their_address_budget_not_a_callers(
    mtls: MtlsGateway,
) -> None:
    """A certificate naming two URI SANs proves no one: its calls are counted against
    the address they come from. A caller that proves who it is, from the same address,
    is served."""
    nameless_channel, nameless, _ = caller(mtls, "spiffe://corp/a", "spiffe://corp/b")
    channel, known, _ = caller(mtls)
    with nameless_channel, channel:
        spend_budget(nameless, grpc.StatusCode.UNAUTHENTICATED)
        with pytest.raises(grpc.RpcError) as failure:
            nameless.CreateRestoreSession(create_request("rp-nameless"), timeout=10)
        assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert retry_delay_s(failure.value) is not None
        assert known.CreateRestoreSession(create_request("rp-known"), timeout=10).id


def test_a_turned_away_call_is_answered_before_its_deadline(mtls: MtlsGateway) -> None:
    """Held until a refusal fits (2 s here), but never past what the caller waits."""
    channel, flooder, _ = caller(mtls)
    with channel:
        spend_budget(flooder, grpc.StatusCode.INVALID_ARGUMENT)
        with pytest.raises(grpc.RpcError) as failure:
            flooder.CreateRestoreSession(invalid_create(), timeout=0.5)
    assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_request_that_is_no_message_at_all_is_invalid(mtls: MtlsGateway) -> None:
    """Parsed by the gateway once the caller may be served: bytes that are no request are
    the caller's mistake (INVALID_ARGUMENT, counted), not the gateway's (INTERNAL)."""
    channel, _, _ = caller(mtls)
    with channel:
        create = channel.unary_unary("/graphrestore.v1.OneDriveRestoreService/CreateRestoreSession")
        with pytest.raises(grpc.RpcError) as failure:
            create(b"\xff\xff\xff", timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
