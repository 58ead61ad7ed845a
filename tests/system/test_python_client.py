"""graphrestore.Client and AsyncClient against a real gateway: the README's example, a
session made and read, Graph's refusal as a GatewayError, a rotated token file, and an
`import graphrestore` that loads none of the CLI."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from graphrestore import AsyncClient, Client, GatewayError
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request
from processes import Emulator, Gateway
from test_jwt_and_secrets import JwtSetup, jwt_gateway  # noqa: F401 (a fixture)

README = Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md"
CLI_MODULES = (
    "restorectl",
    "cli_options",
    "whole_day",
    "items",
    "restore_flow",
    "connection_check",
    "bulk",
    "plan",
    "runs",
    "report",
)


def test_the_readme_example_runs_against_a_gateway(gateway: Gateway) -> None:
    example = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert example is not None
    result = subprocess.run(
        [sys.executable, "-c", example.group(1)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GRAPHRESTORE_ADDRESS": gateway.address},
    )
    assert result.returncode == 0, result.stderr
    created, refused = result.stdout.splitlines()
    assert created.startswith("draft session ")
    assert refused.startswith("NOT_FOUND ")


def test_import_graphrestore_loads_no_cli_module() -> None:
    names = ", ".join(repr(f"graphrestore.{m}") for m in CLI_MODULES)
    script = (
        "import sys, graphrestore\n"
        "assert 'grpc' not in sys.modules, 'grpc loaded by the import alone'\n"
        "graphrestore.Client, graphrestore.AsyncClient, graphrestore.GatewayError\n"
        f"print([m for m in ({names}, 'shtab', 'argparse') if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_client_makes_a_session_and_reads_it(gateway: Gateway) -> None:
    request = create_request("rp-client-1")
    request.request_id = ""  # the client makes one
    with Client(gateway.address) as client:
        session = client.onedrive.CreateRestoreSession(request, timeout=30)
        got = client.onedrive.GetRestoreSession(
            service_pb.GetRestoreSessionRequest(restore_session_id=session.id), timeout=30
        )
    assert got.status == pb.RESTORE_SESSION_STATUS_DRAFT
    assert got.restore_session_artifact_count.total == 1


def test_graphs_refusal_is_a_gateway_error_with_graphs_request_ids(
    emulator: Emulator, gateway: Gateway
) -> None:
    emulator.fault(kind="status", method="GET", path="/restoreSessions/", status=404)
    with Client(gateway.address) as client, pytest.raises(GatewayError) as raised:
        client.onedrive.GetRestoreSession(
            service_pb.GetRestoreSessionRequest(restore_session_id="no-such-session"), timeout=30
        )
    error = raised.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.domain == "graph.microsoft.com"
    assert error.graph_code and error.graph_request_id and error.client_request_id


def test_a_rotated_token_file_is_read_for_each_call(
    jwt_gateway: JwtSetup,  # noqa: F811
    emulator: Emulator,
    tmp_path: Path,
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(jwt_gateway.token(emulator))
    settings = {"ca_file": str(jwt_gateway.ca.cert_file), "token_file": str(token_file)}
    with Client(jwt_gateway.gateway.address, **settings) as client:
        client.onedrive.CreateRestoreSession(create_request("rp-client-jwt-1"), timeout=30)
        token_file.write_text(jwt_gateway.token(emulator, lifetime_s=-600))
        with pytest.raises(GatewayError) as raised:
            client.onedrive.CreateRestoreSession(create_request("rp-client-jwt-2"), timeout=30)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        token_file.write_text(jwt_gateway.token(emulator))
        client.onedrive.CreateRestoreSession(create_request("rp-client-jwt-3"), timeout=30)


def test_an_async_client_makes_a_session_of_each_workload(gateway: Gateway) -> None:
    async def main() -> list[pb.RestoreSession]:
        async with AsyncClient(gateway.address) as client:
            new = pb.DESTINATION_TYPE_NEW
            mailbox = pb.MailboxRestoreArtifact(
                restore_point=pb.RestorePoint(id="rp-mailbox-a"), destination_type=new
            )
            site = pb.SiteRestoreArtifact(
                restore_point=pb.RestorePoint(id="rp-site-a"), destination_type=new
            )
            drive = pb.DriveRestoreArtifact(
                restore_point=pb.RestorePoint(id="rp-async"), destination_type=new
            )
            return [
                await client.exchange.CreateRestoreSession(
                    service_pb.CreateRestoreSessionRequest(
                        restore_session=pb.RestoreSession(mailbox_restore_artifacts=[mailbox])
                    ),
                    timeout=30,
                ),
                await client.sharepoint.CreateRestoreSession(
                    service_pb.CreateRestoreSessionRequest(
                        restore_session=pb.RestoreSession(site_restore_artifacts=[site])
                    ),
                    timeout=30,
                ),
                await client.onedrive.CreateRestoreSession(
                    service_pb.CreateRestoreSessionRequest(
                        restore_session=pb.RestoreSession(drive_restore_artifacts=[drive])
                    ),
                    timeout=30,
                ),
            ]

    sessions = asyncio.run(main())
    assert [s.status for s in sessions] == [pb.RESTORE_SESSION_STATUS_DRAFT] * 3
