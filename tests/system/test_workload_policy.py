"""Policy per workload, over mTLS: a rule names the workloads its caller may restore
(OneDrive only when it names none, as every rule did before SharePoint and Exchange
came); ownership, unit and destination rules hold in each workload; a session of one
workload is not found through another's service, even by its owner."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from graphrestore.channel import open_channel
from graphrestore.v1 import exchange_restore_service_pb2_grpc as exchange_grpc
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2_grpc as sharepoint_grpc
from helpers import create_request, error_info
from pki import Issued
from processes import Emulator, MtlsGateway, start_mtls_gateway
from test_workloads import EXCHANGE, SHAREPOINT, get, graph_paths, period

SITES_ONLY = "spiffe://corp/ns/web/sa/sites"
DRIVES_ONLY = "spiffe://corp/ns/legacy/sa/drives"
EVERYWHERE = "spiffe://corp/ns/ir/sa/responder"
OTHER_RESPONDER = "spiffe://corp/ns/ir/sa/other"
UNIT_BOUND = "spiffe://corp/ns/team/sa/one-site"
ALL_METHODS = json.dumps(
    [
        "CreateRestoreSession",
        "GetRestoreSession",
        "ListRestoreSessions",
        "ActivateRestoreSession",
        "DeleteRestoreSession",
        "AddSiteRestoreArtifacts",
        "CreateSiteRestoreArtifactsBulkAdditionRequest",
        "CreateMailboxRestoreArtifactsBulkAdditionRequest",
    ]
)


def policy(unit_id: str) -> str:
    return f"""
[[callers]]
id = "{SITES_ONLY}"
workloads = ["sharepoint"]
methods = {ALL_METHODS}
destination_types = ["new"]
max_artifacts = 100

[[callers]]
id = "{DRIVES_ONLY}"
methods = {ALL_METHODS}
destination_types = ["new"]
max_artifacts = 100

[[callers]]
id = "{EVERYWHERE}"
workloads = ["onedrive", "sharepoint", "exchange"]
methods = {ALL_METHODS}
destination_types = ["new", "inPlace"]
max_artifacts = 100

[[callers]]
id = "{OTHER_RESPONDER}"
workloads = ["onedrive", "sharepoint", "exchange"]
methods = {ALL_METHODS}
destination_types = ["new", "inPlace"]
max_artifacts = 100

[[callers]]
id = "{UNIT_BOUND}"
workloads = ["sharepoint"]
methods = {ALL_METHODS}
destination_types = ["new"]
max_artifacts = 100
protection_unit_ids = ["{unit_id}"]
"""


class Setup:
    def __init__(self, base: MtlsGateway, site_unit: str) -> None:
        self.base = base
        self.site_unit = site_unit
        self.callers = {
            who: base.ca.issue(who.rsplit("/", 1)[1], "x", uri=who)
            for who in (SITES_ONLY, DRIVES_ONLY, EVERYWHERE, OTHER_RESPONDER, UNIT_BOUND)
        }

    def channel(self, who: str) -> grpc.Channel:
        issued: Issued = self.callers[who]
        return open_channel(
            self.base.gateway.address,
            ca_file=str(self.base.ca.cert_file),
            cert_file=str(issued.cert_file),
            key_file=str(issued.key_file),
        )

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.base.audit_file.read_text().splitlines()]


def a_site_unit_and_its_point(emulator: Emulator) -> tuple[str, str]:
    with emulator.graph_client() as graph:
        unit = graph.get("/siteProtectionUnits").json()["value"][0]["id"]
        found = graph.post(
            "/restorePoints/search",
            json={
                "protectionUnitIds": [unit],
                "protectionTimePeriod": {"startDateTime": "2026-10-01T00:00:00Z"},
                "restorePointPreference": "latest",
            },
        ).json()
    return unit, found["searchResults"][0]["restorePoint"]["id"]


@pytest.fixture(scope="module")
def setup(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    unit, _ = a_site_unit_and_its_point(emulator)
    folder: Path = tmp_path_factory.mktemp("workload-policy")
    base = start_mtls_gateway(emulator.gateway_env(), folder, policy(unit))
    yield Setup(base, unit)
    assert base.gateway.stop() == 0


def test_a_rule_restores_only_the_workloads_it_names(emulator: Emulator, setup: Setup) -> None:
    site_points = SHAREPOINT.points("p")
    since = len(emulator.journal())
    cases = [
        (SITES_ONLY, "onedrive", False),
        (SITES_ONLY, "exchange", False),
        (SITES_ONLY, "sharepoint", True),
        (DRIVES_ONLY, "sharepoint", False),  # no `workloads`: OneDrive only
        (DRIVES_ONLY, "exchange", False),
        (DRIVES_ONLY, "onedrive", True),
    ]
    for who, workload, allowed in cases:
        with setup.channel(who) as channel:
            stub, request = _create(channel, workload, site_points)
            if allowed:
                assert stub.CreateRestoreSession(request, timeout=10).id, (who, workload)
                continue
            with pytest.raises(grpc.RpcError) as failure:
                stub.CreateRestoreSession(request, timeout=10)
        assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED, (who, workload)
        assert error_info(failure.value).reason == "WORKLOAD_NOT_ALLOWED"
    creates = [p for p in graph_paths(emulator, since) if p.startswith("POST /v1.0/")]
    assert sorted(creates) == [  # only the two allowed ones reached Graph
        "POST /v1.0/solutions/backupRestore/oneDriveForBusinessRestoreSessions",
        "POST /v1.0/solutions/backupRestore/sharePointRestoreSessions",
    ]
    denied = [r for r in setup.audit() if r["reason"] == "WORKLOAD_NOT_ALLOWED"]
    assert len(denied) == 4


def _create(channel: grpc.Channel, workload: str, site_points: list[str]) -> tuple[Any, Any]:
    if workload == "onedrive":
        return service_grpc.OneDriveRestoreServiceStub(channel), create_request(
            f"rp-policy-{uuid.uuid4().hex[:8]}"
        )
    if workload == "sharepoint":
        stub: Any = sharepoint_grpc.SharePointRestoreServiceStub(channel)
        session = pb.RestoreSession(site_restore_artifacts=SHAREPOINT.new(*site_points))
    else:
        stub = exchange_grpc.ExchangeRestoreServiceStub(channel)
        session = pb.RestoreSession(mailbox_restore_artifacts=EXCHANGE.new(*EXCHANGE.points("p")))
    return stub, service_pb.CreateRestoreSessionRequest(
        restore_session=session, request_id=str(uuid.uuid4())
    )


def test_a_session_is_its_owners_and_its_workloads_only(setup: Setup) -> None:
    with setup.channel(EVERYWHERE) as mine, setup.channel(OTHER_RESPONDER) as theirs:
        sharepoint = sharepoint_grpc.SharePointRestoreServiceStub(mine)
        session = SHAREPOINT.create(sharepoint, *SHAREPOINT.points("owned"))
        assert get(sharepoint, session.id).id == session.id
        elsewhere = [
            exchange_grpc.ExchangeRestoreServiceStub(mine),
            service_grpc.OneDriveRestoreServiceStub(mine),
            sharepoint_grpc.SharePointRestoreServiceStub(theirs),
        ]
        activate = service_pb.ActivateRestoreSessionRequest(restore_session_id=session.id)
        for stub in elsewhere:
            with pytest.raises(grpc.RpcError) as failure:
                get(stub, session.id)
            assert failure.value.code() == grpc.StatusCode.NOT_FOUND
            with pytest.raises(grpc.RpcError) as failure:
                stub.ActivateRestoreSession(activate, timeout=10)
            assert failure.value.code() == grpc.StatusCode.NOT_FOUND
        listed = sharepoint_grpc.SharePointRestoreServiceStub(theirs).ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(), timeout=10
        )
        assert session.id not in {s.id for s in listed.restore_sessions}
        assert get(sharepoint, session.id).status == pb.RESTORE_SESSION_STATUS_DRAFT


def test_a_caller_bound_to_a_site_restores_that_site_only(emulator: Emulator, setup: Setup) -> None:
    _, its_point = a_site_unit_and_its_point(emulator)
    with setup.channel(UNIT_BOUND) as channel:
        stub = sharepoint_grpc.SharePointRestoreServiceStub(channel)
        assert SHAREPOINT.create(stub, its_point).id
        since = len(emulator.journal())
        with pytest.raises(grpc.RpcError) as failure:
            SHAREPOINT.create(stub, *SHAREPOINT.points("someone-elses"))
        assert error_info(failure.value).reason == "PROTECTION_UNIT_NOT_ALLOWED"
        # By URL, no rule can tell which unit a site is: refused, never guessed.
        with pytest.raises(grpc.RpcError) as failure:
            stub.CreateSiteRestoreArtifactsBulkAdditionRequest(
                SHAREPOINT.message(
                    "Create{noun}RestoreArtifactsBulkAdditionRequestRequest",
                    bulk_addition_request=pb.SiteRestoreArtifactsBulkAdditionRequest(
                        destination_type=pb.DESTINATION_TYPE_NEW,
                        protection_time_period=period(),
                        site_web_urls=["https://contoso.sharepoint.com/sites/site00000"],
                    ),
                ),
                timeout=10,
            )
        assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_info(failure.value).reason == "PROTECTION_UNITS_UNVERIFIABLE"
        [record] = [r for r in setup.audit() if r["reason"] == "PROTECTION_UNITS_UNVERIFIABLE"]
        assert record["rpc"] == "CreateSiteRestoreArtifactsBulkAdditionRequest"
        assert record["artifacts"] == [
            {
                "site_web_url": "https://contoso.sharepoint.com/sites/site00000",
                "destination": "DESTINATION_TYPE_NEW",
            }
        ]
        # Graph was asked only which unit the other point belongs to.
        assert all(
            "/protectionUnit" in path or "/restorePoints/" in path
            for path in graph_paths(emulator, since)
        )
