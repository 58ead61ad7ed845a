"""Ops drive the gateway with grpcurl and grpc health; SIGTERM drains and exits 0."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import grpc
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import create_request, wait_for
from processes import BIN, Emulator, Gateway, start_gateway

SERVICE = "graphrestore.v1.OneDriveRestoreService"


def grpcurl(gateway: Gateway, *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "grpcurl"), "-plaintext", *args[:-1], gateway.address, args[-1]]
        if args[0] == "-d"
        else [str(BIN / "grpcurl"), "-plaintext", gateway.address, *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_grpcurl_lists_describes_and_calls(gateway: Gateway) -> None:
    services = grpcurl(gateway, "list").split()
    assert SERVICE in services
    assert "grpc.health.v1.Health" in services
    assert "grpc.reflection.v1alpha.ServerReflection" in services

    description = grpcurl(gateway, "describe", SERVICE)
    assert (
        "rpc CreateRestoreSession ( .graphrestore.v1.CreateRestoreSessionRequest )" in description
    )
    assert "// Creates a draft restore session" in description
    message = grpcurl(gateway, "describe", "graphrestore.v1.RestoreSession")
    assert ".graphrestore.v1.RestoreSessionStatus status = 2;" in message
    # The comments of the .proto reach grpcurl, field by field.
    assert "// Where the session is in its lifecycle." in message
    enum = grpcurl(gateway, "describe", "graphrestore.v1.DestinationType")
    assert "// Graph's \"inPlace\": overwrite the drive's current content." in enum

    body = json.dumps(
        {
            "restore_session": {
                "drive_restore_artifacts": [
                    {
                        "restore_point": {"id": "rp-grpcurl"},
                        "destination_type": "DESTINATION_TYPE_NEW",
                    }
                ]
            }
        }
    )
    session = json.loads(grpcurl(gateway, "-d", body, f"{SERVICE}/CreateRestoreSession"))
    assert session["status"] == "RESTORE_SESSION_STATUS_DRAFT"
    assert session["restoreSessionArtifactCount"]["total"] == 1


def test_health_reports_serving(gateway: Gateway, emulator: Emulator, tmp_path: Path) -> None:
    with grpc.insecure_channel(gateway.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "liveness", "readiness", SERVICE):
            answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
    checker = subprocess.run(
        [str(BIN / "graphrestore-healthcheck")],
        env={
            **emulator.gateway_env(),
            "GRAPHRESTORE_LISTEN": gateway.address,
            "GRAPHRESTORE_STATE_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checker.returncode == 0, checker.stderr
    assert checker.stdout.strip() == "SERVING"


def test_sigterm_exits_0_after_logging_the_drain(emulator: Emulator) -> None:
    gateway = start_gateway(emulator.gateway_env())
    assert gateway.stop() == 0  # SIGTERM; returns once all it wrote has been read
    messages = [r["message"] for r in gateway.log_records()]
    assert messages[-2:] == ["shutting down", "stopped"]


def test_sigterm_finishes_the_call_in_flight(emulator: Emulator) -> None:
    gateway = start_gateway(emulator.gateway_env())
    emulator.fault_on_create(kind="delay", delay_s=1.5)
    with grpc.insecure_channel(gateway.address) as channel:
        stub = service_grpc.OneDriveRestoreServiceStub(channel)
        posts_before = emulator.posts_to_create()
        in_flight = stub.CreateRestoreSession.future(create_request("rp-drain"), timeout=20)
        assert wait_for(lambda: emulator.posts_to_create() > posts_before, within_s=10)
        gateway.process.send_signal(signal.SIGTERM)
        assert in_flight.result().id
    assert gateway.process.wait(timeout=30) == 0


def test_grpcurl_describes_and_calls_the_sharepoint_and_exchange_services(
    gateway: Gateway,
) -> None:
    services = grpcurl(gateway, "list").split()
    for service, noun, field in (
        ("graphrestore.v1.SharePointRestoreService", "Site", "site_restore_artifacts"),
        ("graphrestore.v1.ExchangeRestoreService", "Mailbox", "mailbox_restore_artifacts"),
    ):
        assert service in services
        description = grpcurl(gateway, "describe", service)
        assert f"rpc Add{noun}RestoreArtifacts" in description
        assert "// Same lifecycle, rules and errors as OneDriveRestoreService" in description
        point = f"rp-grpcurl-{noun.lower()}"  # names a site or a mailbox unit
        body = json.dumps(
            {
                "restore_session": {
                    field: [
                        {"restore_point": {"id": point}, "destination_type": "DESTINATION_TYPE_NEW"}
                    ]
                }
            }
        )
        session = json.loads(grpcurl(gateway, "-d", body, f"{service}/CreateRestoreSession"))
        assert session["status"] == "RESTORE_SESSION_STATUS_DRAFT"
    granular = grpcurl(gateway, "describe", "graphrestore.v1.GranularMailboxRestoreArtifact")
    assert "string search_response_id = 11;" in granular
