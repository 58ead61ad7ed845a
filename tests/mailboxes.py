"""Exchange callers with narrow rules, over mTLS, and the granular and plain mailbox drafts
they make (through the gateway, or directly in the emulator, as something outside the
gateway would): shared by the boundary tests of granular sessions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from graphrestore.channel import open_channel
from graphrestore.v1 import exchange_restore_service_pb2 as exchange_pb
from graphrestore.v1 import exchange_restore_service_pb2_grpc as exchange_grpc
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from processes import Emulator, MtlsGateway, start_mtls_gateway

Stub = exchange_grpc.ExchangeRestoreServiceStub
SESSIONS = "/v1.0/solutions/backupRestore/exchangeRestoreSessions"
EVERY_METHOD = tuple(
    sorted(exchange_pb.DESCRIPTOR.services_by_name["ExchangeRestoreService"].methods_by_name)
)
QUERY = "(Subject -like '*Finance*')"
GRAPH_DESTINATIONS = {pb.DESTINATION_TYPE_NEW: "new", pb.DESTINATION_TYPE_IN_PLACE: "inPlace"}


@dataclass(frozen=True)
class Rule:
    """One caller of the policy: its SPIFFE id and what it may do (every method of the
    workloads by default; tests/browsing.py's rule names OneDrive and SharePoint)."""

    uri: str
    destinations: tuple[str, ...] = ("new", "inPlace")
    # None: any protection unit.
    units: tuple[str, ...] | None = None
    sessions: str = "own"
    workloads: tuple[str, ...] = ("exchange",)
    methods: tuple[str, ...] = EVERY_METHOD

    def toml(self) -> str:
        lines = [
            "[[callers]]",
            f'id = "{self.uri}"',
            f"workloads = {json.dumps(list(self.workloads))}",
            f"methods = {json.dumps(list(self.methods))}",
            f"destination_types = {json.dumps(list(self.destinations))}",
            "max_artifacts = 100",
            f'sessions = "{self.sessions}"',
        ]
        if self.units is not None:
            lines.append(f"protection_unit_ids = {json.dumps(list(self.units))}")
        return "\n".join(lines) + "\n"


@dataclass
class MailboxGateway:
    """A gateway whose callers are `rules` (by name), and its audit."""

    mtls: MtlsGateway
    rules: dict[str, Rule]

    @contextmanager
    def stub(self, name: str) -> Iterator[Stub]:
        issued = self.mtls.ca.issue(name, name, uri=self.rules[name].uri)
        channel = open_channel(
            self.mtls.gateway.address,
            ca_file=str(self.mtls.ca.cert_file),
            cert_file=str(issued.cert_file),
            key_file=str(issued.key_file),
        )
        with channel:
            yield Stub(channel)

    def audit(self) -> list[dict[str, Any]]:
        audit_file = self.mtls.audit_file
        if not audit_file.exists():
            return []
        return [json.loads(line) for line in audit_file.read_text().splitlines()]


def start_mailbox_gateway(
    emulator: Emulator, folder: Path, rules: dict[str, Rule], env: dict[str, str] | None = None
) -> MailboxGateway:
    policy = "\n".join(rule.toml() for rule in rules.values())
    folder.mkdir(parents=True, exist_ok=True)
    mtls = start_mtls_gateway({**emulator.gateway_env(), **(env or {})}, folder, policy)
    return MailboxGateway(mtls, rules)


def mailbox_units(emulator: Emulator, count: int) -> list[str]:
    with emulator.graph_client() as graph:
        listed = graph.get("/protectionUnits/microsoft.graph.mailboxProtectionUnit").json()
    return [str(unit["id"]) for unit in listed["value"][:count]]


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def search(stub: Stub, unit: str) -> tuple[str, list[str]]:
    """A message search of one mailbox through the gateway: (its id, the points found)."""
    found = stub.SearchRestorePoints(
        service_pb.SearchRestorePointsRequest(
            protection_unit_ids=[unit],
            protection_time_period=pb.TimePeriod(
                start_date_time=timestamp(datetime(2026, 10, 1, tzinfo=UTC)),
                end_date_time=timestamp(datetime(2026, 11, 1, tzinfo=UTC)),
            ),
            artifact_query=pb.ArtifactQuery(
                artifact_type=pb.RESTORABLE_ARTIFACT_MESSAGE, query_expression=QUERY
            ),
        ),
        timeout=20,
    )
    return found.search_response_id, [r.restore_point.id for r in found.search_results]


def granular_request(
    search_id: str, points: Sequence[str], destination: int = pb.DESTINATION_TYPE_NEW
) -> service_pb.CreateRestoreSessionRequest:
    return service_pb.CreateRestoreSessionRequest(
        restore_session=pb.RestoreSession(
            granular_mailbox_restore_artifacts=[
                pb.GranularMailboxRestoreArtifact(
                    restore_point=pb.RestorePoint(id=point),
                    destination_type=destination,
                    search_response_id=search_id,
                )
                for point in points
            ]
        ),
        request_id=str(uuid.uuid4()),
    )


def graph_search(emulator: Emulator, unit: str) -> tuple[str, list[str]]:
    """A message search made directly in Graph, outside the gateway."""
    with emulator.graph_client() as graph:
        found = graph.post(
            "/restorePoints/search",
            json={
                "protectionUnitIds": [unit],
                "protectionTimePeriod": {
                    "startDateTime": "2026-10-01T00:00:00Z",
                    "endDateTime": "2026-11-01T00:00:00Z",
                },
                "artifactQuery": {"artifactType": "message", "queryExpression": QUERY},
            },
        ).json()
    points = [str(r["restorePoint"]["id"]) for r in found["searchResults"]]
    return str(found["searchResponseId"]), points


def outside_draft(emulator: Emulator, field: str, artifacts: list[dict[str, Any]]) -> str:
    """A draft made directly in Graph, that no one made through the gateway."""
    with emulator.graph_client() as graph:
        made = graph.post("/exchangeRestoreSessions", json={field: artifacts})
    made.raise_for_status()
    return str(made.json()["id"])


def outside_granular(
    emulator: Emulator,
    unit: str | Sequence[str],
    count: int,
    destination: int = pb.DESTINATION_TYPE_IN_PLACE,
) -> tuple[str, list[str]]:
    """A granular draft of `count` restore points of `unit` (or of several, one search
    each) made outside the gateway: its id and the points it holds."""
    artifacts = []
    for searched in [unit] if isinstance(unit, str) else unit:
        search_id, points = graph_search(emulator, searched)
        artifacts += [
            {
                "restorePoint": {"id": point},
                "destinationType": GRAPH_DESTINATIONS[destination],
                "searchResponseId": search_id,
            }
            for point in points
        ]
    artifacts = artifacts[:count]
    made = outside_draft(emulator, "granularMailboxRestoreArtifacts", artifacts)
    return made, [a["restorePoint"]["id"] for a in artifacts]


def outside_plain(emulator: Emulator, points: Sequence[str]) -> str:
    artifacts = [{"restorePoint": {"id": p}, "destinationType": "new"} for p in points]
    return outside_draft(emulator, "mailboxRestoreArtifacts", artifacts)


def emulator_sessions(emulator: Emulator) -> dict[str, list[str]]:
    """Every session of the emulator -> the restore points it holds (granular included)."""
    listed = emulator.control.get("/_emulator/sessions").json()["sessions"]
    return {s["id"]: s["restore_point_ids"] for s in listed}


def activate(stub: Stub, session_id: str, **kwargs: Any) -> pb.RestoreSession:
    return stub.ActivateRestoreSession(
        service_pb.ActivateRestoreSessionRequest(
            restore_session_id=session_id, request_id=str(uuid.uuid4())
        ),
        timeout=20,
        **kwargs,
    )


def delete(stub: Stub, session_id: str) -> None:
    stub.DeleteRestoreSession(
        service_pb.DeleteRestoreSessionRequest(
            restore_session_id=session_id, request_id=str(uuid.uuid4())
        ),
        timeout=20,
    )


def code_of(call: Any, *args: Any, **kwargs: Any) -> grpc.StatusCode:
    try:
        call(*args, **kwargs)
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK
