"""`make run` (tools/run_dev.py) prints lines to try: each one, run as printed from the
checkout, works against the gateway it started, in every auth mode."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from processes import BIN, ROOT, clean_env

# What each printed line shows when it worked, by the command it runs.
SHOWS = {
    "grpcurl": '"status": "RESTORE_SESSION_STATUS_DRAFT"',
    "create": "RESTORE_SESSION_STATUS_DRAFT",
    "restore": "1000 of 1000 restored",
    "curl": "grpc_server_handled_total",
}


def shown_by(line: str) -> str:
    """The SHOWS key of a printed line: its program, or restorectl's command."""
    program = Path(line.split()[0]).name
    if program == "restorectl":
        return next(word for word in ("create", "restore") if word in line.split())
    return program


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def make_run(auth: str, state_dir: Path, profile: str = "") -> Iterator[list[str]]:
    """tools/run_dev.py with GRAPHRESTORE_AUTH=`auth` (and the emulator `profile`, if
    given), its state in `state_dir`; what it printed, once its gateway listens."""
    env = clean_env(
        {
            **({"GRAPHRESTORE_EMULATOR_PROFILE": profile} if profile else {}),
            "GRAPHRESTORE_AUTH": auth,
            "GRAPHRESTORE_STATE_DIR": str(state_dir),
            "GRAPHRESTORE_LISTEN": f"127.0.0.1:{free_port()}",
            "GRAPHRESTORE_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
        }
    )
    process = subprocess.Popen(
        [str(BIN / "python"), str(ROOT / "tools" / "run_dev.py")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    printed: list[str] = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith("Ctrl-C"):
            break
    logged: list[str] = []
    for line in process.stderr:
        logged.append(line)
        if '"message": "listening"' in line:
            break
    else:
        raise RuntimeError("make run's gateway did not start:\n" + "".join(printed + logged))
    stdout, stderr = process.stdout, process.stderr
    threading.Thread(target=lambda: printed.extend(stdout), daemon=True).start()
    threading.Thread(target=lambda: logged.extend(stderr), daemon=True).start()
    try:
        yield printed
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, "".join(logged[-20:])


@pytest.mark.parametrize("auth", ["mtls", "jwt", "none"])
def test_every_line_make_run_prints_works_as_printed(auth: str, tmp_path: Path) -> None:
    with make_run(auth, tmp_path) as printed:
        tried = []
        for line in (line.strip() for line in printed if line.startswith("  ")):
            command = shown_by(line)
            result = subprocess.run(
                ["bash", "-c", line], cwd=ROOT, capture_output=True, text=True, timeout=300
            )
            assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
            assert SHOWS[command] in result.stdout, f"{line}\n{result.stdout}"
            tried.append(command)
    # With jwt, restorectl's line sends the caller's token file (its policy allows a create).
    expected = (
        ["grpcurl", "create", "curl"] if auth == "jwt" else ["grpcurl", "create", "restore", "curl"]
    )
    assert tried == expected
    if auth != "none":
        audited = [
            json.loads(x) for x in (tmp_path / "pki" / "audit.jsonl").read_text().splitlines()
        ]
        assert {record["outcome"] for record in audited} == {"OK"}


def test_make_run_offers_the_realistic_emulator(tmp_path: Path) -> None:
    with make_run("none", tmp_path, profile="realistic") as printed:
        url = printed[0].split()[2]
        assert printed[0].rstrip().endswith("profile realistic)")
        verify = ssl.create_default_context(cafile=str(tmp_path / "emulator" / "ca.pem"))
        settings = httpx.get(f"{url}/_emulator/realism", verify=verify)
    assert settings.status_code == 200
    assert settings.json()["max_active_sessions"] == 25
