"""`make run`: the gateway against real Graph when a tenant is configured, otherwise
against the bundled emulator (started here, dev CA and secret under .state/)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STATE_DIR = ROOT / ".state" / "emulator"
# The emulator's tenant for trying things: 1,000 users with a protected drive and
# mailbox each, 100 protected sites, restores 10x faster.
DEMO_USERS = 1000
DEMO_SITES = 100
DEMO_TIME_SCALE = 10
EXAMPLE_BODY = (
    '{"restore_session": {"drive_restore_artifacts": ['
    '{"restore_point": {"id": "1f1fccc3-a642-4f61-bf49-f37b9a888279"}, '
    '"destination_type": "DESTINATION_TYPE_NEW"}]}, '
    '"request_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}'
)


def start_emulator() -> tuple[subprocess.Popen[str], dict[str, str]]:
    emulator = subprocess.Popen(
        [
            str(BIN / "graph-emulator"),
            *("--port", "0", "--state-dir", str(STATE_DIR)),
            *("--seed-drives", str(DEMO_USERS), "--seed-mailboxes", str(DEMO_USERS)),
            *("--seed-sites", str(DEMO_SITES), "--time-scale", str(DEMO_TIME_SCALE)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert emulator.stdout is not None
    line = emulator.stdout.readline()
    if not line:
        sys.exit("graph-emulator did not start")
    info: dict[str, str] = json.loads(line)
    return emulator, info


def main() -> None:
    if os.environ.get("GRAPHRESTORE_TENANT_ID"):
        os.execv(BIN / "graphrestore-gateway", ["graphrestore-gateway"])
    emulator, info = start_emulator()
    env = {
        "GRAPHRESTORE_AUTH": "none",
        **os.environ,
        "GRAPHRESTORE_TENANT_ID": info["tenant_id"],
        "GRAPHRESTORE_CLIENT_ID": info["client_id"],
        "GRAPHRESTORE_CLIENT_SECRET_FILE": info["client_secret_file"],
        "GRAPHRESTORE_AUTHORITY_HOST": info["authority_host"],
        "GRAPHRESTORE_GRAPH_URL": info["graph_url"],
        "GRAPHRESTORE_CA_FILE": info["ca_file"],
    }
    address = env.setdefault("GRAPHRESTORE_LISTEN", "127.0.0.1:50051")
    metrics = env.setdefault("GRAPHRESTORE_METRICS_LISTEN", "127.0.0.1:9464")
    scheme = "http" if env["GRAPHRESTORE_AUTH"] == "none" else "https"
    print(f"graph emulator: {info['graph_url']} (tenant {info['tenant_id']})", flush=True)
    # With GRAPHRESTORE_AUTH=mtls or jwt, add your TLS files or bearer header to these.
    plaintext = "-plaintext " if env["GRAPHRESTORE_AUTH"] == "none" else ""
    print(
        "try it in another shell:\n"
        f"  .venv/bin/grpcurl {plaintext}-d '{EXAMPLE_BODY}' {address} "
        "graphrestore.v1.OneDriveRestoreService/CreateRestoreSession\n"
        f"  .venv/bin/restorectl --address {address} create "
        "--restore-point 1f1fccc3-a642-4f61-bf49-f37b9a888279 --destination new\n"
        f"  .venv/bin/restorectl --address {address} restore --csv "
        f"{(STATE_DIR / 'protected.csv').relative_to(ROOT)} "
        "--point-in-time 2026-11-01T00:00:00Z --destination new\n"
        f"metrics: curl {scheme}://{metrics}/metrics\n"
        "Ctrl-C stops both.",
        flush=True,
    )
    gateway = subprocess.Popen([str(BIN / "graphrestore-gateway")], env=env)
    signal.signal(signal.SIGTERM, lambda *_: gateway.send_signal(signal.SIGTERM))
    try:
        code = gateway.wait()
    except KeyboardInterrupt:
        gateway.send_signal(signal.SIGTERM)
        code = gateway.wait()
    finally:
        emulator.terminate()
        emulator.wait()
    sys.exit(code)


if __name__ == "__main__":
    main()
