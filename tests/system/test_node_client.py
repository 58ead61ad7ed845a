"""The Node.js client, @graphrestore/client (clients/node), as a caller uses it: its own
`node --test` suite and its README's example against real gateways (mTLS, and bearer
tokens), importing it runs nothing, it packs, and its generated TypeScript matches
protos/. tsc type-checks it as it builds dist/ (and `make lint` runs `tsc --noEmit`)."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pki import Issued
from processes import ROOT, Emulator, Gateway, MtlsGateway, start_gateway, start_mtls_gateway

NODE_CLIENT = ROOT / "clients" / "node"
GENERATED = NODE_CLIENT / "src" / "generated"
CALLER = "spiffe://corp/ns/node/sa/restorer"
JWT_AUDIENCE = "api://graphrestore"
METHODS = '["CreateRestoreSession", "GetRestoreSession", "WatchRestoreSession"]'
POLICY = 'methods = {methods}\ndestination_types = ["new"]\nmax_artifacts = 10\n'


@dataclass
class Gateways:
    mtls: MtlsGateway
    # Its file stem is the dev PKI's caller's, so mtls.folder reads as `make run`'s .state/pki.
    caller: Issued
    jwt: Gateway
    token: str


def npm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args], cwd=NODE_CLIENT, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def built() -> None:
    """dist/ as this checkout's src/ builds it, type-checked by tsc (npm ci built it too,
    but only when package.json or its lock changed)."""
    if shutil.which("node") is None or not (NODE_CLIENT / "node_modules").exists():
        pytest.fail("node and `npm ci --prefix clients/node` are needed (make test does it)")
    result = npm("run", "build")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def gateways(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateways]:
    policy = POLICY.format(methods=METHODS)
    mtls = start_mtls_gateway(
        emulator.gateway_env(),
        tmp_path_factory.mktemp("node"),
        f'[[callers]]\nid = "{CALLER}"\n{policy}',
    )
    caller = mtls.ca.issue("backup-bot", "restorer", uri=CALLER)
    app = emulator.control.post("/_emulator/apps", json={"roles": []}).json()["client_id"]
    token = emulator.control.post(
        "/_emulator/tokens", json={"client_id": app, "audience": JWT_AUDIENCE}
    ).json()["access_token"]
    jwt_policy = mtls.folder / "jwt-policy.toml"
    jwt_policy.write_text(f'[[callers]]\nid = "{app}"\n{policy}')
    server = mtls.ca.issue("jwt-gateway", "graphrestore", server=True)
    tenant, graph_url = emulator.info["tenant_id"], emulator.info["graph_url"]
    jwt = start_gateway(
        {
            **emulator.gateway_env(),
            "GRAPHRESTORE_AUTH": "jwt",
            "GRAPHRESTORE_TLS_CERT_FILE": str(server.cert_file),
            "GRAPHRESTORE_TLS_KEY_FILE": str(server.key_file),
            "GRAPHRESTORE_JWT_JWKS_URL": f"{graph_url}/{tenant}/discovery/v2.0/keys",
            "GRAPHRESTORE_JWT_ISSUER": f"https://sts.windows.net/{tenant}/",
            "GRAPHRESTORE_JWT_AUDIENCE": JWT_AUDIENCE,
            "GRAPHRESTORE_POLICY_FILE": str(jwt_policy),
            "GRAPHRESTORE_AUDIT_FILE": str(mtls.folder / "jwt-audit.jsonl"),
        }
    )
    yield Gateways(mtls, caller, jwt, token)
    assert jwt.stop() == 0
    assert mtls.gateway.stop() == 0


def localhost(address: str) -> str:
    """The gateway's certificate names localhost; grpc-js sends the host as SNI."""
    return address.replace("127.0.0.1", "localhost")


def installed_beside(folder: Path) -> Path:
    """`folder` as a caller's project with the package in its node_modules."""
    scope = folder / "node_modules" / "@graphrestore"
    scope.mkdir(parents=True)
    (scope / "client").symlink_to(NODE_CLIENT)
    return folder


def test_the_node_suite_passes_against_real_gateways(
    built: None, gateways: Gateways, emulator: Emulator, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "GRAPHRESTORE_TEST_ADDRESS": localhost(gateways.mtls.gateway.address),
        "GRAPHRESTORE_TEST_CA_FILE": str(gateways.mtls.ca.cert_file),
        "GRAPHRESTORE_TEST_CERT_FILE": str(gateways.caller.cert_file),
        "GRAPHRESTORE_TEST_KEY_FILE": str(gateways.caller.key_file),
        "GRAPHRESTORE_TEST_CALLER": CALLER,
        "GRAPHRESTORE_TEST_JWT_ADDRESS": localhost(gateways.jwt.address),
        "GRAPHRESTORE_TEST_TOKEN": gateways.token,
        "GRAPHRESTORE_TEST_EMULATOR_URL": emulator.info["graph_url"],
        "GRAPHRESTORE_TEST_EMULATOR_CA_FILE": emulator.info["ca_file"],
        "GRAPHRESTORE_TEST_DIR": str(tmp_path),
    }
    result = subprocess.run(
        ["node", "--test", "test/"],
        cwd=NODE_CLIENT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^# pass [1-9]", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE), result.stdout


def readme_example() -> str:
    readme = (NODE_CLIENT / "README.md").read_text()
    [example] = re.findall(r"```js\n(.*?)```", readme, re.DOTALL)
    return str(example)


def test_the_readme_example_creates_a_session(
    built: None, gateways: Gateways, tmp_path: Path
) -> None:
    example = readme_example()
    assert len(example.splitlines()) <= 15
    project = installed_beside(tmp_path)
    (project / "example.js").write_text(example)
    result = subprocess.run(
        ["node", "example.js", "rp-node-readme"],
        cwd=project,
        env={
            **os.environ,
            "PKI": str(gateways.mtls.folder),
            "GRAPHRESTORE_ADDRESS": localhost(gateways.mtls.gateway.address),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    _session_id, status, created = result.stdout.split()
    assert status == "RESTORE_SESSION_STATUS_DRAFT"
    assert created.endswith("Z")


@pytest.mark.parametrize(
    ("module_type", "program"),
    [
        ("commonjs", "const client = require('@graphrestore/client');"),
        ("module", "import * as client from '@graphrestore/client';"),
    ],
)
def test_importing_the_package_runs_nothing(
    built: None, tmp_path: Path, module_type: str, program: str
) -> None:
    exports = ["connect", "mtlsCredentials", "tokenFileCredentials", "GraphRestoreError"]
    check = f"console.log(JSON.stringify({json.dumps(exports)}.map((n) => typeof client[n])));"
    result = subprocess.run(
        ["node", f"--input-type={module_type}", "-e", program + check],
        cwd=installed_beside(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Nothing printed but what the program printed, and it ended on its own.
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == ["function"] * len(exports)


def test_npm_pack_ships_the_built_package(built: None, tmp_path: Path) -> None:
    # dist/ is `built`'s: not built again by the prepare script.
    result = npm("pack", "--json", "--ignore-scripts", "--pack-destination", str(tmp_path))
    assert result.returncode == 0, result.stderr
    [packed] = json.loads(result.stdout)
    assert packed["name"] == "@graphrestore/client"
    files = {entry["path"] for entry in packed["files"]}
    assert {"package.json", "README.md", "dist/index.js", "dist/index.d.ts"} <= files
    assert "dist/generated/graphrestore/v1/onedrive_restore_service.js" in files
    assert not {name for name in files if name.startswith(("src/", "test/", "node_modules/"))}
    assert (tmp_path / packed["filename"]).exists()


def test_the_committed_typescript_is_not_stale(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_stubs.py"), "--node", str(tmp_path)],
        check=True,
    )
    fresh = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.ts"))
    committed = sorted(str(p.relative_to(GENERATED)) for p in GENERATED.rglob("*.ts"))
    assert fresh == committed, "run `make proto` and commit the result"
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, GENERATED, fresh, shallow=False)
    assert not mismatch and not errors, f"stale {mismatch + errors}: run `make proto`"
