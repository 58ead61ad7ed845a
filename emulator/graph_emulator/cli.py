"""`graph-emulator`: serve the emulated tenant over TLS on loopback and print how to reach it."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import socket
import sys
import uuid
from pathlib import Path

import jwt
import trustme
import uvicorn

from graph_emulator import managed_identity
from graph_emulator.app import Emulator
from graph_emulator.entra import new_secret
from graph_emulator.graph import MAX_PAGE_SIZE
from graph_emulator.protection import DOCUMENTED_BROWSE_POINT, DRIVE, MAILBOX, SITE
from graph_emulator.realistic import Realism
from graph_emulator.sessions import Clock

LISTEN_BACKLOG = 2048


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (secrets, keys)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def write_drives_csv(emulator: Emulator, path: Path) -> None:
    """The seeded drives as a CSV that `restorectl restore --csv` reads."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["protection_unit_id", "email", "directory_object_id"])
        writer.writerows(
            (u.id, u.email, u.directory_object_id)
            for u in emulator.protection.seeded
            if u.kind == DRIVE
        )


def write_protected_csv(emulator: Emulator, path: Path) -> None:
    """Every seeded drive, mailbox and site, a row each with its workload, as
    `restorectl restore --csv` reads them for the whole day (and its protection unit,
    which `restorectl plan` reads)."""
    workloads = {DRIVE: "onedrive", MAILBOX: "exchange", SITE: "sharepoint"}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["workload", "email", "site_url", "protection_unit_id"])
        writer.writerows(
            (workloads[u.kind], u.email, u.site_web_url, u.id) for u in emulator.protection.seeded
        )


class _DeliberatelyCutAnswers(logging.Filter):
    """Truncated and malformed faults end answers early on purpose: not worth an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Microsoft Graph backup API and Entra ID.")
    parser.add_argument("--port", type=int, default=0, help="TLS port on 127.0.0.1 (0: any free)")
    parser.add_argument("--state-dir", type=Path, required=True, help="where ca.pem etc. go")
    parser.add_argument("--seed-drives", type=int, default=0, help="protected drives to create")
    parser.add_argument(
        "--seed-mailboxes", type=int, default=0, help="protected mailboxes (of the same users)"
    )
    parser.add_argument("--seed-sites", type=int, default=0, help="protected SharePoint sites")
    parser.add_argument(
        "--page-size-limit",
        type=int,
        default=MAX_PAGE_SIZE,
        help="most items a page of any collection holds, whatever $top asks",
    )
    parser.add_argument("--seed", type=int, default=1, help="makes the seeded drives repeatable")
    parser.add_argument(
        "--restore-point-prefix",
        action="append",
        default=[],
        help="restore point ids starting with it exist, each with a unit of its own: a site "
        "if the id holds 'site', a mailbox if it holds 'mailbox', else a drive "
        "(test data; any other unknown id is refused as Graph refuses it)",
    )
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="run restores this many times faster"
    )
    parser.add_argument(
        "--federation-issuer",
        help="an external identity provider Entra trusts for workload identity federation "
        "(e.g. a Kubernetes service account issuer); needs --federation-jwks",
    )
    parser.add_argument(
        "--federation-jwks",
        type=Path,
        help="a JSON Web Key Set file: the public keys of --federation-issuer",
    )
    parser.add_argument(
        "--profile",
        choices=("default", "realistic"),
        default="default",
        help="realistic: throttles, fails now and then and lags as Graph does under load "
        "(the --realistic-* settings); default: none of that, for fast tests",
    )
    realistic = parser.add_argument_group("realistic profile settings")
    for name, default, source in Realism.settings():
        realistic.add_argument(
            f"--realistic-{name.replace('_', '-')}",
            dest=f"realistic_{name}",
            type=type(default),
            default=default,
            help=f"{source} (default {default})",
        )
    args = parser.parse_args(argv)
    if bool(args.federation_issuer) != bool(args.federation_jwks):
        parser.error("--federation-issuer and --federation-jwks go together")

    state_dir: Path = args.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = state_dir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server_pem = state_dir / "emulator-server.pem"
    write_private(server_pem, server_cert.private_key_and_cert_chain_pem.bytes())

    realism = None
    if args.profile == "realistic":
        realism = Realism(
            **{name: getattr(args, f"realistic_{name}") for name, _, _ in Realism.settings()}
        )
    emulator = Emulator(
        tenant_id=str(uuid.uuid4()),
        clock=Clock(args.time_scale),
        realism=realism,
        page_size_limit=args.page_size_limit,
    )
    emulator.protection.seed(args.seed_drives, args.seed, args.seed_mailboxes, args.seed_sites)
    emulator.protection.restore_point_prefixes = tuple(args.restore_point_prefix)
    emulator.browse.seed_documented(DOCUMENTED_BROWSE_POINT)
    if args.seed_drives:
        write_drives_csv(emulator, state_dir / "protected-drives.csv")
    if emulator.protection.seeded:
        write_protected_csv(emulator, state_dir / "protected.csv")
    secret = new_secret()
    app = emulator.directory.register(secret=secret)
    secret_file = state_dir / "client-secret"
    write_private(secret_file, secret.encode())
    if args.federation_issuer:
        jwks = json.loads(args.federation_jwks.read_text())
        emulator.directory.trusted_issuers[args.federation_issuer] = jwt.PyJWKSet.from_dict(jwks)
    system_identity = emulator.directory.register(managed_identity=True)
    emulator.directory.system_identity = system_identity
    identity_header_file = state_dir / "identity-header"
    write_private(identity_header_file, emulator.identity_header.encode())

    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say they are TCP.
    # Without it every answer written in two segments waited for the client's delayed
    # ACK: 40 ms a call whenever the connection was quiet, which Graph does not add.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    # Listen before announcing the address, so nobody who read it is refused.
    sock.listen(LISTEN_BACKLOG)
    port = sock.getsockname()[1]
    base_url = f"https://127.0.0.1:{port}"
    print(
        json.dumps(
            {
                "graph_url": base_url,
                "authority_host": base_url,
                "tenant_id": emulator.tenant_id,
                "client_id": app.client_id,
                "client_secret_file": str(secret_file.resolve()),
                "ca_file": str(ca_file.resolve()),
                # The platform's managed identity endpoint (App Service style).
                "identity_endpoint": f"{base_url}{managed_identity.PATH}",
                "identity_header_file": str(identity_header_file.resolve()),
                "managed_identity_client_id": system_identity.client_id,
            }
        ),
        flush=True,
    )
    config = uvicorn.Config(
        emulator.asgi_app(),
        ssl_certfile=str(server_pem),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    logging.getLogger("uvicorn.error").addFilter(_DeliberatelyCutAnswers())
    try:
        asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))
    except KeyboardInterrupt:
        sys.exit(0)
