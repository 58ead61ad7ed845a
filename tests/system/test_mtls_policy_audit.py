"""With GRAPHRESTORE_AUTH=mtls, only callers with a certificate of the internal CA get in,
the policy decides what each may do, and the audit file keeps every decision."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from graphrestore.channel import open_channel
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import create_request, error_info, wait_for
from pki import Authority, Issued
from processes import BIN, Emulator, MtlsGateway, start_mtls_gateway

BACKUP_BOT = "spiffe://corp/ns/payroll/sa/backup-bot"
POLICY = f"""
[[callers]]
id = "{BACKUP_BOT}"
methods = ["CreateRestoreSession", "ActivateRestoreSession", "GetRestoreSession"]
destination_types = ["new"]
max_artifacts = 100

[[callers]]
id = "spiffe://corp/ns/helpdesk/*"
methods = ["GetRestoreSession", "ListRestoreSessions"]
sessions = "any"

[[callers]]
id = "cn:ops-runner"
methods = ["CreateRestoreSession", "AddDriveRestoreArtifacts"]
destination_types = ["new", "inPlace"]
max_artifacts = 10
"""


@dataclass
class MtlsSetup(MtlsGateway):
    """The mTLS gateway and its callers: each rule kind of POLICY has one."""

    bot: Issued
    helpdesk: Issued
    cn_only: Issued
    stranger: Issued

    def audit(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.audit_file.read_text().splitlines()]


@pytest.fixture(scope="module")
def mtls(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MtlsSetup]:
    base = start_mtls_gateway(emulator.gateway_env(), tmp_path_factory.mktemp("mtls"), POLICY)
    ca = base.ca
    setup = MtlsSetup(
        **vars(base),
        bot=ca.issue("bot", "backup-bot", uri=BACKUP_BOT),
        helpdesk=ca.issue("helpdesk", "hd", uri="spiffe://corp/ns/helpdesk/sa/agent-7"),
        cn_only=ca.issue("ops", "ops-runner"),
        stranger=ca.issue("stranger", "x", uri="spiffe://corp/ns/other/sa/intruder"),
    )
    yield setup
    assert setup.gateway.stop() == 0


def test_the_bot_restores_to_new_and_is_refused_in_place(
    mtls: MtlsSetup, emulator: Emulator
) -> None:
    channel, stub = mtls.stub(mtls.bot)
    with channel:
        created = stub.CreateRestoreSession(create_request("rp-bot-1"), timeout=10)
        assert created.status == pb.RESTORE_SESSION_STATUS_DRAFT
        posts_before = emulator.posts_to_create()
        refused = create_request("rp-bot-2", destination=pb.DESTINATION_TYPE_IN_PLACE)
        with pytest.raises(grpc.RpcError) as failure:
            stub.CreateRestoreSession(refused, timeout=10)
    assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
    info = error_info(failure.value)
    assert (info.domain, info.reason) == ("graphrestore", "DESTINATION_TYPE_NOT_ALLOWED")
    assert info.metadata["caller"] == BACKUP_BOT
    assert emulator.posts_to_create() == posts_before

    records = {r["request_id"]: r for r in mtls.audit()}
    allowed = records[created_request_id(mtls, created.id)]
    assert allowed["caller"] == BACKUP_BOT
    assert allowed["decision"] == "allowed" and allowed["outcome"] == "OK"
    assert allowed["artifacts"] == [
        {"restore_point_id": "rp-bot-1", "destination": "DESTINATION_TYPE_NEW"}
    ]
    assert allowed["graph_request_ids"] and allowed["peer"]
    denied = records[refused.request_id]
    assert denied["decision"] == "denied"
    assert denied["reason"] == "DESTINATION_TYPE_NOT_ALLOWED"
    assert denied["outcome"] == "PERMISSION_DENIED"
    assert denied["artifacts"] == [
        {"restore_point_id": "rp-bot-2", "destination": "DESTINATION_TYPE_IN_PLACE"}
    ]


def test_an_invalid_create_is_audited_with_what_it_asked_for(mtls: MtlsSetup) -> None:
    channel, stub = mtls.stub(mtls.bot)
    invalid = create_request("rp-bot-twice", "rp-bot-twice")
    with channel, pytest.raises(grpc.RpcError) as failure:
        stub.CreateRestoreSession(invalid, timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [record] = [r for r in mtls.audit() if r["request_id"] == invalid.request_id]
    assert (record["decision"], record["outcome"]) == ("invalid", "INVALID_ARGUMENT")
    assert record["artifacts"] == 2 * [
        {"restore_point_id": "rp-bot-twice", "destination": "DESTINATION_TYPE_NEW"}
    ]


def created_request_id(mtls: MtlsSetup, session_id: str) -> str:
    return next(str(r["request_id"]) for r in mtls.audit() if r["restore_session_id"] == session_id)


@pytest.mark.parametrize(
    ("who", "call", "reason"),
    [
        ("bot", create_request(*(f"rp-{i}" for i in range(101))), "TOO_MANY_ARTIFACTS"),
        (
            "bot",
            service_pb.DeleteRestoreSessionRequest(restore_session_id="s-1"),
            "METHOD_NOT_ALLOWED",
        ),
        ("helpdesk", create_request("rp-h"), "METHOD_NOT_ALLOWED"),
        ("stranger", create_request("rp-s"), "UNKNOWN_CALLER"),
        ("cn_only", create_request(*(f"rp-{i}" for i in range(11))), "TOO_MANY_ARTIFACTS"),
    ],
)
def test_each_rule_kind_denies_before_graph(
    mtls: MtlsSetup, emulator: Emulator, who: str, call: object, reason: str
) -> None:
    posts_before = emulator.posts_to_create()
    channel, stub = mtls.stub(getattr(mtls, who))
    method = (
        stub.DeleteRestoreSession
        if isinstance(call, service_pb.DeleteRestoreSessionRequest)
        else stub.CreateRestoreSession
    )
    with channel, pytest.raises(grpc.RpcError) as failure:
        method(call, timeout=10)
    assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(failure.value).reason == reason
    assert emulator.posts_to_create() == posts_before
    assert any(r["reason"] == reason and r["decision"] == "denied" for r in mtls.audit())


def test_a_cn_only_certificate_is_its_cn_and_may_restore_in_place(mtls: MtlsSetup) -> None:
    channel, stub = mtls.stub(mtls.cn_only)
    with channel:
        session = stub.CreateRestoreSession(
            create_request("rp-ops", destination=pb.DESTINATION_TYPE_IN_PLACE), timeout=10
        )
    assert session.id
    assert any(r["caller"] == "cn:ops-runner" and r["outcome"] == "OK" for r in mtls.audit())


def test_prefix_rules_and_health_for_any_authenticated_caller(mtls: MtlsSetup) -> None:
    channel, stub = mtls.stub(mtls.helpdesk)
    with channel:
        listed = stub.ListRestoreSessions(service_pb.ListRestoreSessionsRequest(), timeout=10)
        assert listed.restore_sessions
    channel, _ = mtls.stub(mtls.stranger)
    with channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    assert health.status == health_pb2.HealthCheckResponse.SERVING


def test_no_certificate_or_another_cas_certificate_gets_nowhere(
    mtls: MtlsSetup, tmp_path: Path
) -> None:
    other = Authority(tmp_path, "elsewhere")
    outsider = other.issue("outsider", "x", uri=BACKUP_BOT)
    attempts = [
        open_channel(mtls.gateway.address, ca_file=str(mtls.ca.cert_file)),
        open_channel(
            mtls.gateway.address,
            ca_file=str(mtls.ca.cert_file),
            cert_file=str(outsider.cert_file),
            key_file=str(outsider.key_file),
        ),
        grpc.insecure_channel(mtls.gateway.address),
    ]
    for channel in attempts:
        with channel, pytest.raises(grpc.RpcError) as failure:
            service_grpc.OneDriveRestoreServiceStub(channel).CreateRestoreSession(
                create_request("rp-x"), timeout=5
            )
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


def grpcurl(mtls: MtlsSetup, who: Issued, *args: str) -> subprocess.CompletedProcess[str]:
    tls = [
        "-cacert",
        str(mtls.ca.cert_file),
        "-cert",
        str(who.cert_file),
        "-key",
        str(who.key_file),
    ]
    return subprocess.run(
        [str(BIN / "grpcurl"), *tls, *args], capture_output=True, text=True, timeout=30
    )


def test_grpcurl_with_client_certificates(mtls: MtlsSetup) -> None:
    listed = grpcurl(mtls, mtls.bot, mtls.gateway.address, "list")
    assert "graphrestore.v1.OneDriveRestoreService" in listed.stdout, listed.stderr
    body = json.dumps(
        {
            "restore_session": {
                "drive_restore_artifacts": [
                    {
                        "restore_point": {"id": "rp-curl"},
                        "destination_type": "DESTINATION_TYPE_IN_PLACE",
                    }
                ]
            }
        }
    )
    refused = grpcurl(
        mtls,
        mtls.bot,
        "-d",
        body,
        mtls.gateway.address,
        "graphrestore.v1.OneDriveRestoreService/CreateRestoreSession",
    )
    assert refused.returncode != 0
    assert "PermissionDenied" in refused.stderr
    assert "DESTINATION_TYPE_NOT_ALLOWED" in refused.stderr


def refused_edits(mtls: MtlsSetup) -> int:
    """How many policy edits the gateway has refused (it logs each)."""
    return sum("policy edit refused" in line for line in mtls.gateway.log_lines)


def test_a_policy_edit_applies_and_a_broken_edit_keeps_the_old_policy(mtls: MtlsSetup) -> None:
    channel, stub = mtls.stub(mtls.bot)
    in_place = create_request("rp-edit", destination=pb.DESTINATION_TYPE_IN_PLACE)
    with channel:
        try:
            mtls.policy_file.write_text(
                POLICY.replace(
                    'destination_types = ["new"]', 'destination_types = ["new", "inPlace"]'
                )
            )
            assert stub.CreateRestoreSession(in_place, timeout=10).id
            refusals = refused_edits(mtls)
            mtls.policy_file.write_text("[[callers]\nthis is not toml")
            assert wait_for(lambda: refused_edits(mtls) > refusals, within_s=10)
            in_place.request_id = create_request().request_id
            assert stub.CreateRestoreSession(in_place, timeout=10).id  # old policy in force
        finally:
            # The module's gateway serves the tests after this one: its policy, whatever
            # happened above.
            mtls.policy_file.write_text(POLICY)
        in_place.request_id = create_request().request_id
        with pytest.raises(grpc.RpcError) as failure:
            stub.CreateRestoreSession(in_place, timeout=10)
    assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert wait_for(
        lambda: any("policy edit refused" in line for line in mtls.gateway.log_lines), within_s=2
    )


def test_rotated_server_certificates_are_served_without_a_restart(mtls: MtlsSetup) -> None:
    import socket
    import ssl

    def served_serial() -> int:
        context = ssl.create_default_context(cafile=str(mtls.ca.cert_file))
        context.load_cert_chain(str(mtls.bot.cert_file), str(mtls.bot.key_file))
        context.set_alpn_protocols(["h2"])
        host, port = mtls.gateway.address.rsplit(":", 1)
        with (
            socket.create_connection((host, int(port)), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
        from cryptography import x509

        return x509.load_der_x509_certificate(der).serial_number

    before = served_serial()
    fresh = mtls.ca.issue("gateway-next", "graphrestore", server=True)
    mtls.server.key_file.write_bytes(fresh.key_file.read_bytes())
    mtls.server.cert_file.write_bytes(fresh.cert_file.read_bytes())
    assert wait_for(lambda: served_serial() != before, within_s=5)


def test_the_maximum_counts_what_the_session_already_holds(mtls: MtlsSetup) -> None:
    def add(stub: service_grpc.OneDriveRestoreServiceStub, session_id: str, *points: str) -> None:
        stub.AddDriveRestoreArtifacts(
            service_pb.AddDriveRestoreArtifactsRequest(
                restore_session_id=session_id,
                drive_restore_artifacts=[
                    pb.DriveRestoreArtifact(
                        restore_point=pb.RestorePoint(id=p),
                        destination_type=pb.DESTINATION_TYPE_NEW,
                    )
                    for p in points
                ],
                request_id=create_request().request_id,
            ),
            timeout=10,
        )

    channel, stub = mtls.stub(mtls.cn_only)  # ops-runner: at most 10 per session
    with channel:
        session = stub.CreateRestoreSession(
            create_request(*(f"rp-max-{i}" for i in range(6))), timeout=10
        )
        with pytest.raises(grpc.RpcError) as failure:
            add(stub, session.id, *(f"rp-more-{i}" for i in range(5)))
        assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_info(failure.value).reason == "TOO_MANY_ARTIFACTS"
        add(stub, session.id, *(f"rp-more-{i}" for i in range(4)))


def test_a_caller_limited_to_protection_units(mtls: MtlsSetup, emulator: Emulator) -> None:
    from test_lifecycle import bulk_request

    with emulator.graph_client() as graph:
        two = graph.get("/driveProtectionUnits?$top=2").json()["value"]
        mine, other = [u["id"] for u in two]
        owner_of = {u["id"]: u["directoryObjectId"] for u in two}
        found = graph.post(
            "/restorePoints/search",
            json={
                "protectionUnitIds": [mine, other],
                "protectionTimePeriod": {
                    "startDateTime": "2026-10-01T00:00:00Z",
                    "endDateTime": "2026-11-01T00:00:00Z",
                },
            },
        ).json()["searchResults"]
    point_of = {r["restorePoint"]["protectionUnit"]["id"]: r["restorePoint"]["id"] for r in found}
    keeper = mtls.ca.issue("keeper", "unit-keeper")
    mtls.policy_file.write_text(
        POLICY + '\n[[callers]]\nid = "cn:unit-keeper"\n'
        'methods = ["CreateRestoreSession", "CreateDriveRestoreArtifactsBulkAdditionRequest",'
        ' "ActivateRestoreSession"]\nsessions = "any"\n'
        f'destination_types = ["new"]\nmax_artifacts = 10\nprotection_unit_ids = ["{mine}"]\n'
    )
    ops_channel, ops = mtls.stub(mtls.cn_only)
    with ops_channel:
        others = ops.CreateRestoreSession(create_request(point_of[other]), timeout=10)
    channel, stub = mtls.stub(keeper)
    try:
        with channel:
            assert stub.CreateRestoreSession(create_request(point_of[mine]), timeout=10).id
            refusals = []
            for points in ((point_of[other],), (point_of[mine], "rp-from-nowhere")):
                with pytest.raises(grpc.RpcError) as failure:
                    stub.CreateRestoreSession(create_request(*points), timeout=10)
                assert error_info(failure.value).reason == "PROTECTION_UNIT_NOT_ALLOWED"
                refusals.append(failure.value.details())
            # Another unit's restore point and one that does not exist are refused in the
            # same words, naming no unit: the caller learns neither which unit a point
            # belongs to nor whether it exists.
            assert refusals[0] == refusals[1]
            assert other not in refusals[0]
            with pytest.raises(grpc.RpcError) as failure:
                stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
                    bulk_request(drives=["user00001@contoso.com"]), timeout=10
                )
            assert error_info(failure.value).reason == "PROTECTION_UNITS_UNVERIFIABLE"
            # A session it may see but that holds another unit: not to be activated.
            with pytest.raises(grpc.RpcError) as failure:
                stub.ActivateRestoreSession(
                    service_pb.ActivateRestoreSessionRequest(
                        restore_session_id=others.id, request_id=create_request().request_id
                    ),
                    timeout=10,
                )
            assert error_info(failure.value).reason == "PROTECTION_UNIT_NOT_ALLOWED"
            bulk = stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
                bulk_request(protection_unit_ids=[mine]), timeout=10
            )
            assert bulk.restore_session_id
            # Drives named by their owner's directory object id are checked by their unit.
            with pytest.raises(grpc.RpcError) as failure:
                stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
                    bulk_request(directory_object_ids=[owner_of[other]]), timeout=10
                )
            assert error_info(failure.value).reason == "PROTECTION_UNIT_NOT_ALLOWED"
            assert stub.CreateDriveRestoreArtifactsBulkAdditionRequest(
                bulk_request(directory_object_ids=[owner_of[mine]]), timeout=10
            ).restore_session_id
        # The restore points' units were read the documented way, never by $expand.
        looked_up = [r for r in emulator.journal() if r["path"].endswith("/protectionUnit")]
        assert any(point_of[other] in r["path"] for r in looked_up)
        assert not [r for r in emulator.journal() if "expand=protectionUnit" in r["query"]]
    finally:
        mtls.policy_file.write_text(POLICY)


def test_a_failed_call_is_audited_with_its_outcome(mtls: MtlsSetup, emulator: Emulator) -> None:
    channel, stub = mtls.stub(mtls.bot)
    with channel:
        missing = stub.CreateRestoreSession(create_request("rp-gone"), timeout=10).id
        # Deleted behind the gateway's back: Graph answers the activation with 404.
        with emulator.graph_client() as graph:
            graph.delete(f"/restoreSessions/{missing}").raise_for_status()
        request = service_pb.ActivateRestoreSessionRequest(
            restore_session_id=missing, request_id=create_request().request_id
        )
        with pytest.raises(grpc.RpcError) as failure:
            stub.ActivateRestoreSession(request, timeout=10)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND

    def records() -> list[dict[str, object]]:
        return [r for r in mtls.audit() if r["request_id"] == request.request_id]

    # An aborted call's status leaves before its audit record is appended.
    assert wait_for(lambda: bool(records()), within_s=5)
    [record] = records()
    assert (record["decision"], record["outcome"]) == ("allowed", "NOT_FOUND")
    assert record["restore_session_id"] == missing
    assert record["graph_request_ids"]
