"""`make run`: the gateway against real Graph when a tenant is configured, otherwise
against the bundled emulator (started here, dev CA and secret under .state/), with lines
to try that work in the auth mode it runs in. GRAPHRESTORE_AUTH=mtls takes its files from
the dev PKI (tools/dev_pki.py, under .state/pki/) unless they are set; jwt takes the
gateway's certificate from it and callers' tokens from the emulator's Entra ID.
GRAPHRESTORE_EMULATOR_PROFILE=realistic runs the emulator as Graph behaves under load
(throttling, 503s and 504s, lagging lists, background bulk requests, failing artifacts:
emulator/README.md); the default profile does none of that."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The emulator's tenant for trying things: 1,000 users with a protected drive and
# mailbox each, 100 protected sites, restores 10x faster.
DEMO_USERS = 1000
DEMO_SITES = 100
DEMO_TIME_SCALE = 10
EXAMPLE_RESTORE_POINT = "1f1fccc3-a642-4f61-bf49-f37b9a888279"
EXAMPLE_BODY = (
    '{"restore_session": {"drive_restore_artifacts": ['
    f'{{"restore_point": {{"id": "{EXAMPLE_RESTORE_POINT}"}}, '
    '"destination_type": "DESTINATION_TYPE_NEW"}]}, '
    '"request_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}'
)
# The dev PKI's caller whose policy lets it restore (tools/dev_pki.py).
DEV_CALLER = "backup-bot"
JWT_AUDIENCE = "api://graphrestore"


def start_emulator(
    state_dir: Path, profile: str = "default"
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    emulator = subprocess.Popen(
        [
            str(BIN / "graph-emulator"),
            *("--port", "0", "--state-dir", str(state_dir)),
            *("--seed-drives", str(DEMO_USERS), "--seed-mailboxes", str(DEMO_USERS)),
            *("--seed-sites", str(DEMO_SITES), "--time-scale", str(DEMO_TIME_SCALE)),
            *("--profile", profile),
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


def dev_pki(pki: Path) -> None:
    """The dev PKI (the gateway's certificate, callers' and their CA), written on first use."""
    if not (pki / "internal-ca.pem").exists():
        subprocess.run([sys.executable, str(ROOT / "tools" / "dev_pki.py"), str(pki)], check=True)


def mtls_env(pki: Path) -> dict[str, str]:
    """GRAPHRESTORE_AUTH=mtls's files from the dev PKI."""
    return {
        "GRAPHRESTORE_TLS_CERT_FILE": str(pki / "gateway.pem"),
        "GRAPHRESTORE_TLS_KEY_FILE": str(pki / "gateway-key.pem"),
        "GRAPHRESTORE_CLIENT_CA_FILE": str(pki / "internal-ca.pem"),
        "GRAPHRESTORE_POLICY_FILE": str(pki / "policy.toml"),
        "GRAPHRESTORE_AUDIT_FILE": str(pki / "audit.jsonl"),
    }


def jwt_env(info: dict[str, str], pki: Path) -> dict[str, str]:
    """GRAPHRESTORE_AUTH=jwt against the emulator's Entra ID, with a caller app of the
    emulator's and its token in pki/caller.jwt (an hour's), allowed by pki/jwt-policy.toml
    to create sessions."""
    tenant = info["tenant_id"]
    verify = ssl.create_default_context(cafile=info["ca_file"])
    with httpx.Client(base_url=info["graph_url"], verify=verify) as control:
        caller = control.post("/_emulator/apps", json={"roles": []}).json()["client_id"]
        token = control.post(
            "/_emulator/tokens", json={"client_id": caller, "audience": JWT_AUDIENCE}
        ).json()["access_token"]
    token_file = pki / "caller.jwt"
    token_file.touch(mode=0o600)
    token_file.write_text(token)
    (pki / "jwt-policy.toml").write_text(
        f'[[callers]]\nid = "{caller}"\nmethods = ["CreateRestoreSession", "GetRestoreSession"]\n'
        'destination_types = ["new"]\nmax_artifacts = 100\n'
    )
    return {
        "GRAPHRESTORE_TLS_CERT_FILE": str(pki / "gateway.pem"),
        "GRAPHRESTORE_TLS_KEY_FILE": str(pki / "gateway-key.pem"),
        "GRAPHRESTORE_JWT_JWKS_URL": f"{info['graph_url']}/{tenant}/discovery/v2.0/keys",
        "GRAPHRESTORE_JWT_ISSUER": f"https://sts.windows.net/{tenant}/",
        "GRAPHRESTORE_JWT_AUDIENCE": JWT_AUDIENCE,
        "GRAPHRESTORE_POLICY_FILE": str(pki / "jwt-policy.toml"),
        "GRAPHRESTORE_AUDIT_FILE": str(pki / "audit.jsonl"),
    }


def lines_to_try(env: dict[str, str], pki: Path, protected_csv: Path) -> list[str]:
    """Commands that work against the gateway `env` configures, as this checkout runs it."""
    address, metrics = env["GRAPHRESTORE_LISTEN"], env["GRAPHRESTORE_METRICS_LISTEN"]
    create = (
        f"-d '{EXAMPLE_BODY}' {address} graphrestore.v1.OneDriveRestoreService/CreateRestoreSession"
    )
    ca, cert, key = (
        pki / "internal-ca.pem",
        pki / f"{DEV_CALLER}.pem",
        pki / f"{DEV_CALLER}-key.pem",
    )
    if env["GRAPHRESTORE_AUTH"] == "jwt":
        token = pki / "caller.jwt"
        bearer = f'-H "authorization: Bearer $(cat {token})"'
        restorectl = f".venv/bin/restorectl --address {address} --ca-file {ca} --token-file {token}"
        return [
            f".venv/bin/grpcurl -cacert {ca} {bearer} {create}",
            f"{restorectl} create --restore-point {EXAMPLE_RESTORE_POINT} --destination new",
            f"curl --cacert {ca} https://{metrics}/metrics",
        ]
    if env["GRAPHRESTORE_AUTH"] == "mtls":
        grpcurl = f".venv/bin/grpcurl -cacert {ca} -cert {cert} -key {key}"
        restorectl = (
            f".venv/bin/restorectl --address {address} --ca-file {ca} --cert {cert} --key {key}"
        )
        curl = f"curl --cacert {ca} --cert {cert} --key {key} https://{metrics}/metrics"
    else:
        grpcurl = ".venv/bin/grpcurl -plaintext"
        restorectl = f".venv/bin/restorectl --address {address}"
        curl = f"curl http://{metrics}/metrics"
    return [
        f"{grpcurl} {create}",
        f"{restorectl} create --restore-point {EXAMPLE_RESTORE_POINT} --destination new",
        f"{restorectl} restore --csv {protected_csv} "
        "--point-in-time 2026-11-01T00:00:00Z --destination new",
        curl,
    ]


def main() -> None:
    if os.environ.get("GRAPHRESTORE_TENANT_ID"):
        os.execv(BIN / "graphrestore-gateway", ["graphrestore-gateway"])
    state_dir = Path(os.environ.get("GRAPHRESTORE_STATE_DIR", ".state"))
    pki = state_dir / "pki"
    profile = os.environ.get("GRAPHRESTORE_EMULATOR_PROFILE", "default")
    emulator, info = start_emulator(state_dir / "emulator", profile)
    env = {
        "GRAPHRESTORE_AUTH": "none",
        "GRAPHRESTORE_LISTEN": "127.0.0.1:50051",
        "GRAPHRESTORE_METRICS_LISTEN": "127.0.0.1:9464",
        **os.environ,
        "GRAPHRESTORE_STATE_DIR": str(state_dir),
        "GRAPHRESTORE_TENANT_ID": info["tenant_id"],
        "GRAPHRESTORE_CLIENT_ID": info["client_id"],
        "GRAPHRESTORE_CLIENT_SECRET_FILE": info["client_secret_file"],
        "GRAPHRESTORE_AUTHORITY_HOST": info["authority_host"],
        "GRAPHRESTORE_GRAPH_URL": info["graph_url"],
        "GRAPHRESTORE_CA_FILE": info["ca_file"],
    }
    # The dev PKI's files and the emulator's Entra ID, where the environment names none.
    if env["GRAPHRESTORE_AUTH"] == "mtls":
        dev_pki(pki)
        env = {**mtls_env(pki), **env}
    elif env["GRAPHRESTORE_AUTH"] == "jwt":
        dev_pki(pki)
        env = {**jwt_env(info, pki), **env}
    print(
        f"graph emulator: {info['graph_url']} (tenant {info['tenant_id']}, profile {profile})",
        flush=True,
    )
    commands = lines_to_try(env, pki, state_dir / "emulator" / "protected.csv")
    print("try it in another shell:", *(f"  {line}" for line in commands), sep="\n")
    print("Ctrl-C stops both.", flush=True)
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
