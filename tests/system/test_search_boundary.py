"""Search obeys the caller's units: a caller bound to mailboxes never learns anything of
other units (points, hit counts), Graph never hears the search, and messages a search
found are restored only by the caller it was answered to, from the mailbox it searched."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from graphrestore.channel import open_channel
from graphrestore.v1 import exchange_restore_service_pb2_grpc as exchange_grpc
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import error_info
from pki import Issued
from processes import Emulator, Gateway, MtlsGateway, start_mtls_gateway
from test_workloads import period

SEARCH = "/v1.0/solutions/backupRestore/restorePoints/search"
CREATE = "/v1.0/solutions/backupRestore/exchangeRestoreSessions"
OF_A = "spiffe://corp/ns/hr/sa/mailbox-a"
OF_B = "spiffe://corp/ns/hr/sa/mailbox-b"
UNBOUND = "spiffe://corp/ns/ir/sa/responder"


def policy(unit_a: str, unit_b: str) -> str:
    rules = [
        (OF_A, f'protection_unit_ids = ["{unit_a}"]'),
        (OF_B, f'protection_unit_ids = ["{unit_b}"]'),
        (UNBOUND, ""),
    ]
    return "\n".join(
        f"""
[[callers]]
id = "{who}"
workloads = ["exchange"]
methods = ["SearchRestorePoints", "CreateRestoreSession"]
destination_types = ["new", "inPlace"]
max_artifacts = 10
{units}
"""
        for who, units in rules
    )


@dataclass
class Setup:
    mtls: MtlsGateway
    emulator: Emulator
    unit_a: str
    unit_b: str
    callers: dict[str, Issued]

    def stub(self, who: str) -> tuple[grpc.Channel, Any]:
        channel, _ = self.mtls.stub(self.callers[who])
        return channel, exchange_grpc.ExchangeRestoreServiceStub(channel)

    def graph_requests(self, since: int, path: str) -> int:
        return sum(1 for r in self.emulator.journal()[since:] if r["path"] == path)

    def audit(self) -> list[dict[str, Any]]:
        lines = self.mtls.audit_file.read_text().splitlines()
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def setup(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with emulator.graph_client() as graph:
        listed = graph.get("/protectionUnits/microsoft.graph.mailboxProtectionUnit").json()
    unit_a, unit_b = (unit["id"] for unit in listed["value"][:2])
    folder: Path = tmp_path_factory.mktemp("search-boundary")
    mtls = start_mtls_gateway(emulator.gateway_env(), folder, policy(unit_a, unit_b))
    callers = {
        who: mtls.ca.issue(who.rsplit("/", 1)[1], "x", uri=who) for who in (OF_A, OF_B, UNBOUND)
    }
    yield Setup(mtls, emulator, unit_a, unit_b, callers)
    assert mtls.gateway.stop() == 0


def search(units: list[str], query: str = "") -> service_pb.SearchRestorePointsRequest:
    request = service_pb.SearchRestorePointsRequest(
        protection_unit_ids=units, protection_time_period=period()
    )
    if query:
        request.artifact_query.CopyFrom(
            pb.ArtifactQuery(artifact_type=pb.RESTORABLE_ARTIFACT_MESSAGE, query_expression=query)
        )
    return request


def granular(*found: tuple[str, str]) -> service_pb.CreateRestoreSessionRequest:
    """A create of the messages each (search_response_id, restore_point_id) found."""
    return service_pb.CreateRestoreSessionRequest(
        restore_session=pb.RestoreSession(
            granular_mailbox_restore_artifacts=[
                pb.GranularMailboxRestoreArtifact(
                    restore_point=pb.RestorePoint(id=point),
                    destination_type=pb.DESTINATION_TYPE_NEW,
                    search_response_id=search_id,
                )
                for search_id, point in found
            ]
        ),
        request_id=str(uuid.uuid4()),
    )


def test_a_search_of_units_outside_the_callers_is_refused_before_graph(setup: Setup) -> None:
    since = len(setup.emulator.journal())
    channel, stub = setup.stub(OF_A)
    with channel:
        for units, query in (
            ([setup.unit_b], ""),
            ([setup.unit_a, setup.unit_b], ""),
            ([setup.unit_b], "subject:layoffs"),  # a message search of B's mailbox
        ):
            with pytest.raises(grpc.RpcError) as failure:
                stub.SearchRestorePoints(search(units, query), timeout=10)
            assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert error_info(failure.value).reason == "PROTECTION_UNIT_NOT_ALLOWED"
        assert setup.graph_requests(since, SEARCH) == 0
        # Its own mailbox it searches, messages included.
        found = stub.SearchRestorePoints(search([setup.unit_a], "subject:budget"), timeout=10)
    assert found.search_response_id
    assert setup.graph_requests(since, SEARCH) == 1
    denials = [
        r for r in setup.audit() if r["rpc"] == "SearchRestorePoints" and r["caller"] == OF_A
    ]
    assert [r["decision"] for r in denials] == ["denied"] * 3
    assert {"protection_unit_id": setup.unit_b} in denials[2]["artifacts"]


def test_messages_found_are_restored_only_by_whom_the_search_answered(setup: Setup) -> None:
    def found_by(who: str, unit: str) -> tuple[str, str]:
        channel, stub = setup.stub(who)
        with channel:
            answer = stub.SearchRestorePoints(search([unit], "subject:finance"), timeout=10)
        return answer.search_response_id, answer.search_results[0].restore_point.id

    a_search, a_point = found_by(OF_A, setup.unit_a)
    b_search, b_point = found_by(OF_B, setup.unit_b)
    with setup.emulator.graph_client() as graph:  # a search made outside the gateway
        outside = graph.post(
            "/restorePoints/search",
            json={
                "protectionUnitIds": [setup.unit_a],
                "protectionTimePeriod": {"startDateTime": "2026-10-01T00:00:00Z"},
                "artifactQuery": {"artifactType": "message", "queryExpression": "x"},
            },
        ).json()
    outside_found = (outside["searchResponseId"], outside["searchResults"][0]["restorePoint"]["id"])
    since = len(setup.emulator.journal())
    refused = [
        (UNBOUND, (a_search, a_point)),  # no unit limits, but it never searched
        (UNBOUND, outside_found),
        (OF_A, outside_found),  # its own mailbox, but not its own search
        (OF_A, (a_search, b_point)),  # its search, with another mailbox's point
        (OF_B, (a_search, a_point)),
    ]
    for who, found in refused:
        channel, stub = setup.stub(who)
        with channel, pytest.raises(grpc.RpcError) as failure:
            stub.CreateRestoreSession(granular(found), timeout=10)
        assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED, (who, found)
        assert error_info(failure.value).reason == "SEARCH_NOT_ISSUED_TO_CALLER"
    assert setup.graph_requests(since, CREATE) == 0
    for who, found in ((OF_A, (a_search, a_point)), (OF_B, (b_search, b_point))):
        channel, stub = setup.stub(who)
        with channel:
            assert stub.CreateRestoreSession(granular(found), timeout=10).id
    assert setup.graph_requests(since, CREATE) == 2


def test_what_one_replica_answered_binds_on_every_replica(
    setup: Setup, emulator: Emulator, redis_url: str, tmp_path: Path
) -> None:
    """The bindings are in the request store: Redis, shared by the replicas."""
    first = setup.mtls
    env = {**emulator.gateway_env(), "GRAPHRESTORE_REDIS_URL": redis_url}
    replicas = [first.replica(env, tmp_path / f"audit-{index}.jsonl") for index in range(2)]
    try:

        def stub(who: str, replica: Gateway) -> tuple[grpc.Channel, Any]:
            channel = open_channel(
                replica.address,
                ca_file=str(first.ca.cert_file),
                cert_file=str(setup.callers[who].cert_file),
                key_file=str(setup.callers[who].key_file),
            )
            return channel, exchange_grpc.ExchangeRestoreServiceStub(channel)

        channel, a_on_first = stub(OF_A, replicas[0])
        with channel:
            answer = a_on_first.SearchRestorePoints(
                search([setup.unit_a], "subject:audit"), timeout=10
            )
        found = (answer.search_response_id, answer.search_results[0].restore_point.id)
        channel, unbound_on_second = stub(UNBOUND, replicas[1])
        with channel, pytest.raises(grpc.RpcError) as failure:
            unbound_on_second.CreateRestoreSession(granular(found), timeout=10)
        assert error_info(failure.value).reason == "SEARCH_NOT_ISSUED_TO_CALLER"
        channel, a_on_second = stub(OF_A, replicas[1])
        with channel:
            assert a_on_second.CreateRestoreSession(granular(found), timeout=10).id
    finally:
        for replica in replicas:
            assert replica.stop() == 0
