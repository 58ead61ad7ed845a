"""validate_only on every workload's create: the policy and validation a create would
meet, those that ask Graph which unit a restore point is of too, and never Graph's
create. Every answer names the caller the gateway took the call for."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from graphrestore.channel import open_channel
from graphrestore.v1 import exchange_restore_service_pb2 as exchange_pb
from graphrestore.v1 import exchange_restore_service_pb2_grpc as exchange_grpc
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb
from graphrestore.v1 import sharepoint_restore_service_pb2_grpc as sharepoint_grpc
from helpers import error_info
from processes import Emulator, MtlsGateway, start_mtls_gateway

UNIT_BOUND = "spiffe://corp/ns/team/sa/own-units"
# workload -> (Graph's unit list, the service's stub, the artifacts field)
WORKLOADS: dict[str, tuple[str, Any, str]] = {
    "onedrive": (
        "/driveProtectionUnits",
        service_grpc.OneDriveRestoreServiceStub,
        "drive_restore_artifacts",
    ),
    "exchange": (
        "/protectionUnits/microsoft.graph.mailboxProtectionUnit",
        exchange_grpc.ExchangeRestoreServiceStub,
        "mailbox_restore_artifacts",
    ),
    "sharepoint": (
        "/siteProtectionUnits",
        sharepoint_grpc.SharePointRestoreServiceStub,
        "site_restore_artifacts",
    ),
}

# workload -> (its bulk create's request, the bulk request, the field that names, a
# seeded name)
BULK: dict[str, tuple[Any, Any, str, str]] = {
    "onedrive": (
        service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest,
        pb.DriveRestoreArtifactsBulkAdditionRequest,
        "drives",
        "user00001@contoso.com",
    ),
    "exchange": (
        exchange_pb.CreateMailboxRestoreArtifactsBulkAdditionRequestRequest,
        pb.MailboxRestoreArtifactsBulkAdditionRequest,
        "mailboxes",
        "user00001@contoso.com",
    ),
    "sharepoint": (
        sharepoint_pb.CreateSiteRestoreArtifactsBulkAdditionRequestRequest,
        pb.SiteRestoreArtifactsBulkAdditionRequest,
        "site_web_urls",
        "https://contoso.sharepoint.com/sites/site00001",
    ),
}
BULK_CREATES = {w: request.__name__.removesuffix("Request") for w, (request, *_) in BULK.items()}


def points_of_two_units(emulator: Emulator, units_path: str) -> tuple[str, str, str]:
    """(a unit, its latest point, a point of another unit of the workload)."""
    with emulator.graph_client() as graph:
        units = [u["id"] for u in graph.get(units_path).json()["value"][:2]]
        found = graph.post(
            "/restorePoints/search",
            json={
                "protectionUnitIds": units,
                "protectionTimePeriod": {"startDateTime": "2026-10-01T00:00:00Z"},
                "restorePointPreference": "latest",
            },
        ).json()["searchResults"]
    point_of = {r["restorePoint"]["protectionUnit"]["id"]: r["restorePoint"]["id"] for r in found}
    return units[0], point_of[units[0]], point_of[units[1]]


@pytest.fixture(scope="module")
def bound(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MtlsGateway, dict[str, tuple[str, str]]]]:
    """A gateway whose one caller may restore one unit per workload, to new only; and
    per workload (its unit's point, another unit's point)."""
    picked = {w: points_of_two_units(emulator, path) for w, (path, _, _) in WORKLOADS.items()}
    policy = "\n".join(
        [
            "[[callers]]",
            f'id = "{UNIT_BOUND}"',
            f"workloads = {json.dumps(list(WORKLOADS))}",
            f"methods = {json.dumps(['CreateRestoreSession', *BULK_CREATES.values()])}",
            'destination_types = ["new"]',
            "max_artifacts = 100",
            f"protection_unit_ids = {json.dumps([unit for unit, _, _ in picked.values()])}",
        ]
    )
    folder: Path = tmp_path_factory.mktemp("validate-only")
    gateway = start_mtls_gateway(emulator.gateway_env(), folder, policy + "\n")
    yield gateway, {w: (own, other) for w, (_, own, other) in picked.items()}
    assert gateway.gateway.stop() == 0


def validate(stub: Any, field: str, point: str, destination: int) -> Any:
    request = service_pb.CreateRestoreSessionRequest(
        restore_session=pb.RestoreSession(
            **{
                field: [
                    getattr(pb, field.title().replace("_", "")[:-1])(
                        restore_point=pb.RestorePoint(id=point), destination_type=destination
                    )
                ]
            }
        ),
        request_id=str(uuid.uuid4()),
        validate_only=True,
    )
    return stub.CreateRestoreSession.with_call(request, timeout=30)


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_validate_only_applies_every_rule_and_creates_nothing(
    emulator: Emulator, bound: tuple[MtlsGateway, dict[str, tuple[str, str]]], workload: str
) -> None:
    gateway, points = bound
    own, others = points[workload]
    _, make_stub, field = WORKLOADS[workload]
    caller = gateway.ca.issue(f"own-units-{workload}", "x", uri=UNIT_BOUND)
    sessions_before = len(emulator.control.get("/_emulator/sessions").json()["sessions"])
    with open_channel(
        gateway.gateway.address,
        ca_file=str(gateway.ca.cert_file),
        cert_file=str(caller.cert_file),
        key_file=str(caller.key_file),
    ) as channel:
        stub = make_stub(channel)
        session, call = validate(stub, field, own, pb.DESTINATION_TYPE_NEW)
        assert not session.id
        assert dict(call.trailing_metadata())["graphrestore-caller"] == UNIT_BOUND
        with pytest.raises(grpc.RpcError) as another_unit:
            validate(stub, field, others, pb.DESTINATION_TYPE_NEW)
        with pytest.raises(grpc.RpcError) as in_place:
            validate(stub, field, own, pb.DESTINATION_TYPE_IN_PLACE)
        with pytest.raises(grpc.RpcError) as invalid:
            validate(stub, field, "", pb.DESTINATION_TYPE_NEW)
    # The unit of another's point is asked of Graph, as a create would ask it.
    assert another_unit.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(another_unit.value).reason == "PROTECTION_UNIT_NOT_ALLOWED"
    assert in_place.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(emulator.control.get("/_emulator/sessions").json()["sessions"]) == sessions_before
    # The audit tells a check from a create.
    audited = [json.loads(line) for line in gateway.audit_file.read_text().splitlines()]
    [checked] = [r for r in audited if r["outcome"] == "OK" and own in json.dumps(r["artifacts"])]
    assert (checked["validate_only"], checked["outcome"]) == (True, "OK")


def validate_bulk(stub: Any, workload: str, *names: str) -> Any:
    request_type, bulk_type, field, _ = BULK[workload]
    request = request_type(
        bulk_addition_request=bulk_type(
            destination_type=pb.DESTINATION_TYPE_NEW,
            protection_time_period=pb.TimePeriod(
                start_date_time=Timestamp(seconds=1_790_000_000),
                end_date_time=Timestamp(seconds=1_800_000_000),
            ),
            **{field: list(names)},
        ),
        request_id=str(uuid.uuid4()),
        validate_only=True,
    )
    return getattr(stub, BULK_CREATES[workload])(request, timeout=30)


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_a_bulk_request_validated_only_is_checked_and_never_made(
    emulator: Emulator,
    channel: grpc.Channel,
    bound: tuple[MtlsGateway, dict[str, tuple[str, str]]],
    workload: str,
) -> None:
    _, make_stub, _ = WORKLOADS[workload]
    _, _, field, seeded = BULK[workload]
    sessions_before = len(emulator.control.get("/_emulator/sessions").json()["sessions"])
    received_before = sum(emulator.counters()["received"].values())
    checked = validate_bulk(make_stub(channel), workload, seeded)
    assert list(getattr(checked, field)) == [seeded]
    with pytest.raises(grpc.RpcError) as invalid:
        validate_bulk(make_stub(channel), workload, "not a name")
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # Names are Graph's to resolve: a caller bound to units is refused them, as it
    # would be by the request itself.
    gateway, _ = bound
    caller = gateway.ca.issue(f"own-units-bulk-{workload}", "x", uri=UNIT_BOUND)
    with (
        open_channel(
            gateway.gateway.address,
            ca_file=str(gateway.ca.cert_file),
            cert_file=str(caller.cert_file),
            key_file=str(caller.key_file),
        ) as bound_channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        validate_bulk(make_stub(bound_channel), workload, seeded)
    assert error_info(refused.value).reason == "PROTECTION_UNITS_UNVERIFIABLE"
    assert len(emulator.control.get("/_emulator/sessions").json()["sessions"]) == sessions_before
    assert sum(emulator.counters()["received"].values()) == received_before
