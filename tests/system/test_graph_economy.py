"""Fewer Graph calls under a unit-bound rule: a restore point's unit is asked of Graph once
per gateway (replicas on Redis share what one learned), and a change to a session the
gateway filled is checked against its own record of what the session holds, not against
Graph's list of its artifacts, until something Graph will not describe (a removal)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from graphrestore.channel import open_channel
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request
from mailboxes import Rule
from processes import Emulator, Gateway, MtlsGateway, start_mtls_gateway

API = "/v1.0/solutions/backupRestore"
BOUND = "spiffe://corp/ns/u/sa/unit-bound"
ONEDRIVE_METHODS = tuple(
    sorted(service_pb.DESCRIPTOR.services_by_name["OneDriveRestoreService"].methods_by_name)
)
POINTS = 50


@dataclass
class Replicas:
    base: MtlsGateway
    gateways: list[Gateway]

    @contextmanager
    def stub(self, replica: int) -> Iterator[service_grpc.OneDriveRestoreServiceStub]:
        issued = self.base.ca.issue("unit-bound", "unit-bound", uri=BOUND)
        with open_channel(
            self.gateways[replica].address,
            ca_file=str(self.base.ca.cert_file),
            cert_file=str(issued.cert_file),
            key_file=str(issued.key_file),
        ) as channel:
            yield service_grpc.OneDriveRestoreServiceStub(channel)


def units_of(emulator: Emulator, points: list[str]) -> list[str]:
    """Each point's unit, asked of the emulator directly (before anything is counted)."""
    with emulator.graph_client() as graph:
        return [graph.get(f"/restorePoints/{p}/protectionUnit").json()["id"] for p in points]


@pytest.fixture(params=["sqlite", "redis"])
def replicas(
    request: pytest.FixtureRequest, emulator: Emulator, tmp_path: Path
) -> Iterator[tuple[Replicas, list[str]]]:
    """One gateway on SQLite, or two sharing Redis, whose caller may restore exactly the
    units of the points it is given (the first POINTS + 2 of them)."""
    tag = uuid.uuid4().hex[:8]
    points = [f"rp-economy-{tag}-{i:03d}" for i in range(POINTS + 2)]
    rule = Rule(
        BOUND,
        units=tuple(units_of(emulator, points)),
        workloads=("onedrive",),
        methods=ONEDRIVE_METHODS,
    )
    policy = rule.toml().replace("max_artifacts = 100", "max_artifacts = 1000")
    env = {**emulator.gateway_env()}
    if request.param == "redis":
        env["GRAPHRESTORE_REDIS_URL"] = request.getfixturevalue("redis_url")
    base = start_mtls_gateway(env, tmp_path, policy)
    gateways = [base.gateway]
    if request.param == "redis":
        gateways.append(base.replica(env, tmp_path / "audit-replica.jsonl"))
    yield Replicas(base, gateways), points
    for gateway in gateways:
        assert gateway.stop() == 0


def graph_requests(emulator: Emulator, tag: str, ending: str) -> int:
    """The GET requests Graph has seen whose path holds `tag` and ends with `ending`."""
    return sum(
        1
        for entry in emulator.journal()
        if entry["method"] == "GET" and tag in entry["path"] and entry["path"].endswith(ending)
    )


def test_each_restore_points_unit_is_asked_of_graph_once_per_gateway(
    replicas: tuple[Replicas, list[str]], emulator: Emulator
) -> None:
    setup, points = replicas
    tag = points[0].rsplit("-", 1)[0]
    asked = graph_requests(emulator, tag, "/protectionUnit")
    with setup.stub(0) as stub:
        stub.CreateRestoreSession(create_request(*points[:POINTS]), timeout=60)
        assert graph_requests(emulator, tag, "/protectionUnit") == asked + POINTS
        # The same points again: the units are known.
        stub.CreateRestoreSession(create_request(*points[:POINTS]), timeout=60)
    with setup.stub(len(setup.gateways) - 1) as stub:
        # On Redis, the other replica knows them too.
        stub.CreateRestoreSession(create_request(*points[:POINTS]), timeout=60)
    assert graph_requests(emulator, tag, "/protectionUnit") == asked + POINTS


def test_an_addition_is_checked_against_the_gateways_record_not_graphs_list(
    replicas: tuple[Replicas, list[str]], emulator: Emulator
) -> None:
    setup, points = replicas
    with setup.stub(0) as stub:
        session = stub.CreateRestoreSession(create_request(*points[:POINTS]), timeout=60)
    listing = f"{session.id}/driveRestoreArtifacts"
    with setup.stub(len(setup.gateways) - 1) as stub:
        added = stub.AddDriveRestoreArtifacts(
            service_pb.AddDriveRestoreArtifactsRequest(
                restore_session_id=session.id,
                drive_restore_artifacts=[new_artifact(points[POINTS])],
                request_id=str(uuid.uuid4()),
            ),
            timeout=60,
        )
        assert [a.restore_point.id for a in added.added] == [points[POINTS]]
        assert graph_requests(emulator, session.id, listing) == 0
        # A removal: Graph does not say which restore points went, so the next change
        # lists what the session holds (and is still allowed: all of it is the caller's).
        stub.RemoveDriveRestoreArtifacts(
            service_pb.RemoveDriveRestoreArtifactsRequest(
                restore_session_id=session.id,
                drive_restore_artifact_ids=[added.added[0].id],
                request_id=str(uuid.uuid4()),
            ),
            timeout=60,
        )
        stub.AddDriveRestoreArtifacts(
            service_pb.AddDriveRestoreArtifactsRequest(
                restore_session_id=session.id,
                drive_restore_artifacts=[new_artifact(points[POINTS + 1])],
                request_id=str(uuid.uuid4()),
            ),
            timeout=60,
        )
    assert graph_requests(emulator, session.id, listing) > 0


def test_a_session_changed_outside_the_gateway_is_checked_against_graphs_list(
    replicas: tuple[Replicas, list[str]], emulator: Emulator
) -> None:
    """Another app adds a restore point of a unit the caller may not restore, straight
    in Graph: the gateway's record no longer counts what Graph counts, and the caller's
    next change is refused from Graph's own list."""
    setup, points = replicas
    with setup.stub(0) as stub:
        session = stub.CreateRestoreSession(create_request(*points[:2]), timeout=60)
    foreign = f"rp-economy-foreign-{uuid.uuid4().hex[:8]}"
    with emulator.graph_client() as graph:
        graph.patch(
            f"/oneDriveForBusinessRestoreSessions/{session.id}",
            json={
                "driveRestoreArtifacts@delta": [
                    {"restorePoint": {"id": foreign}, "destinationType": "new"}
                ]
            },
        ).raise_for_status()
    with setup.stub(0) as stub, pytest.raises(grpc.RpcError) as refused:
        stub.AddDriveRestoreArtifacts(
            service_pb.AddDriveRestoreArtifactsRequest(
                restore_session_id=session.id,
                drive_restore_artifacts=[new_artifact(points[2])],
                request_id=str(uuid.uuid4()),
            ),
            timeout=60,
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = graph_requests(emulator, session.id, f"{session.id}/driveRestoreArtifacts")
    assert listed > 0


def new_artifact(point: str) -> pb.DriveRestoreArtifact:
    return pb.DriveRestoreArtifact(
        restore_point=pb.RestorePoint(id=point), destination_type=pb.DESTINATION_TYPE_NEW
    )
