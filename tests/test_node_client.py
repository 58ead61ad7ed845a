"""A caller in another language: the Node.js client (clients/node, @grpc/grpc-js and
@grpc/proto-loader from npm) reads protos/ as they are, creates a session over mTLS, and
reads ErrorInfo from a refusal."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pki import Issued
from processes import ROOT, Emulator, MtlsGateway, start_mtls_gateway

NODE_CLIENT = ROOT / "clients" / "node"
CALLER = "spiffe://corp/ns/node/sa/restorer"


@dataclass
class Setup:
    mtls: MtlsGateway
    caller: Issued


@pytest.fixture(scope="module")
def setup(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    if shutil.which("node") is None or not (NODE_CLIENT / "node_modules").exists():
        pytest.fail("node and `npm ci --prefix clients/node` are needed (make test does it)")
    mtls = start_mtls_gateway(
        emulator.gateway_env(),
        tmp_path_factory.mktemp("node"),
        f'[[callers]]\nid = "{CALLER}"\nmethods = ["CreateRestoreSession"]\n'
        'destination_types = ["new"]\nmax_artifacts = 10\n',
    )
    yield Setup(mtls, mtls.ca.issue("restorer", "restorer", uri=CALLER))
    assert mtls.gateway.stop() == 0


def node_restore(setup: Setup, destination: str, *points: str) -> tuple[int, dict[str, object]]:
    tls = ["--ca", setup.mtls.ca.cert_file, "--cert", setup.caller.cert_file]
    result = subprocess.run(
        [
            "node",
            str(NODE_CLIENT / "restore.js"),
            *("--address", setup.mtls.gateway.address.replace("127.0.0.1", "localhost")),
            *map(str, tls),
            *("--key", str(setup.caller.key_file)),
            *(arg for point in points for arg in ("--restore-point", point)),
            *("--destination", destination),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_a_node_caller_creates_a_session(setup: Setup) -> None:
    code, session = node_restore(setup, "new", "rp-node-1", "rp-node-2")
    assert code == 0
    assert session["status"] == "RESTORE_SESSION_STATUS_DRAFT"
    assert session["restore_session_artifact_count"]["total"] == 2  # type: ignore[index]


def test_a_node_caller_reads_error_info_from_a_refusal(setup: Setup) -> None:
    code, refusal = node_restore(setup, "inPlace", "rp-node-3")
    assert code == 1
    assert refusal["code"] == "PERMISSION_DENIED"
    assert refusal["errorInfo"] == {
        "reason": "DESTINATION_TYPE_NOT_ALLOWED",
        "domain": "graphrestore",
        "metadata": {"caller": CALLER},
    }
