"""graphrestore-client at its dependency floors: a throwaway venv with exactly the lowest
versions clients/python/pyproject.toml allows (wheels only), the client installed in it,
its stubs imported (they check the runtime versions) and a gateway called; restorectl
without the [cli] extra."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from processes import Gateway

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
CALL = """
import sys
from graphrestore import Client
from graphrestore.v1 import exchange_restore_service_pb2_grpc, sharepoint_restore_service_pb2_grpc
from graphrestore.v1 import onedrive_restore_service_pb2 as api
from graphrestore.v1 import restore_session_pb2 as pb
import google.protobuf, grpc

drive = pb.DriveRestoreArtifact(
    restore_point=pb.RestorePoint(id="rp-floors"), destination_type=pb.DESTINATION_TYPE_NEW
)
request = api.CreateRestoreSessionRequest(
    restore_session=pb.RestoreSession(drive_restore_artifacts=[drive])
)
with Client(sys.argv[1]) as client:
    session = client.onedrive.CreateRestoreSession(request, timeout=30)
print(grpc.__version__, google.protobuf.__version__, pb.RestoreSessionStatus.Name(session.status))
"""


def floors() -> list[str]:
    """`name==floor` for each dependency of the client, from its `>=` bound."""
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    pins = []
    for requirement in project["dependencies"]:
        found = re.match(r"([A-Za-z0-9_.-]+)>=([^,]+)", requirement)
        assert found, f"{requirement} has no floor"
        pins.append(f"{found[1]}=={found[2]}")
    return pins


def test_the_client_at_its_floors_calls_a_gateway(gateway: Gateway, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    pins = floors()
    subprocess.run([*pip, "--only-binary", ":all:", *pins], check=True, timeout=600)
    subprocess.run([*pip, "--no-deps", str(CLIENT)], check=True, timeout=600)
    checked = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout
    called = subprocess.run(
        [str(venv / "bin" / "python"), "-c", CALL, gateway.address],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert called.returncode == 0, called.stderr
    # Without the [cli] extra, restorectl runs and says what completion needs.
    completion = subprocess.run(
        [str(venv / "bin" / "restorectl"), "completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completion.returncode == 2
    assert "graphrestore-client[cli]" in completion.stderr
    versions = {pin.split("==")[0]: pin.split("==")[1] for pin in pins}
    assert called.stdout.split() == [
        versions["grpcio"],
        versions["protobuf"],
        "RESTORE_SESSION_STATUS_DRAFT",
    ]
