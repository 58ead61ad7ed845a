"""A missing or bad setting stops the gateway at start: exit 2, one line naming the variable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from processes import BIN, Emulator, clean_env


def run_gateway(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "graphrestore-gateway")],
        env=clean_env({"GRAPHRESTORE_LISTEN": "127.0.0.1:0", **env}),
        capture_output=True,
        text=True,
        timeout=30,
    )


def bad_settings(
    emulator: Emulator, tmp_path: Path
) -> dict[str, tuple[dict[str, str | None], str]]:
    empty = tmp_path / "empty"
    empty.write_text("")
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    return {
        "no tenant": ({"GRAPHRESTORE_TENANT_ID": None}, "GRAPHRESTORE_TENANT_ID"),
        "bad tenant": ({"GRAPHRESTORE_TENANT_ID": "a/b"}, "GRAPHRESTORE_TENANT_ID"),
        "no client id": ({"GRAPHRESTORE_CLIENT_ID": None}, "GRAPHRESTORE_CLIENT_ID"),
        "client id not a guid": ({"GRAPHRESTORE_CLIENT_ID": "app"}, "GRAPHRESTORE_CLIENT_ID"),
        "no credential": (
            {"GRAPHRESTORE_CLIENT_SECRET_FILE": None},
            "GRAPHRESTORE_CLIENT_SECRET_FILE",
        ),
        "two credentials": (
            {"GRAPHRESTORE_CLIENT_CERT_FILE": str(not_pem)},
            "GRAPHRESTORE_CLIENT_SECRET_FILE",
        ),
        "secret file missing": (
            {"GRAPHRESTORE_CLIENT_SECRET_FILE": str(tmp_path / "nope")},
            "GRAPHRESTORE_CLIENT_SECRET_FILE",
        ),
        "secret file empty": (
            {"GRAPHRESTORE_CLIENT_SECRET_FILE": str(empty)},
            "GRAPHRESTORE_CLIENT_SECRET_FILE",
        ),
        "cert not pem": (
            {
                "GRAPHRESTORE_CLIENT_SECRET_FILE": None,
                "GRAPHRESTORE_CLIENT_CERT_FILE": str(not_pem),
            },
            "GRAPHRESTORE_CLIENT_CERT_FILE",
        ),
        "listen not host:port": ({"GRAPHRESTORE_LISTEN": "50051"}, "GRAPHRESTORE_LISTEN"),
        "page token key too short": (
            {"GRAPHRESTORE_PAGE_TOKEN_KEY_FILE": str(not_pem)},
            "GRAPHRESTORE_PAGE_TOKEN_KEY_FILE",
        ),
        "watch cap not a number": (
            {"GRAPHRESTORE_MAX_WATCHES_PER_CALLER": "many"},
            "GRAPHRESTORE_MAX_WATCHES_PER_CALLER",
        ),
        "auth unknown": ({"GRAPHRESTORE_AUTH": "magic"}, "GRAPHRESTORE_AUTH"),
        "auth none off loopback": (
            {"GRAPHRESTORE_LISTEN": "0.0.0.0:0"},
            "GRAPHRESTORE_AUTH",
        ),
        "graph url plain http": (
            {"GRAPHRESTORE_GRAPH_URL": "http://graph.microsoft.com"},
            "GRAPHRESTORE_GRAPH_URL",
        ),
        "authority with path": (
            {"GRAPHRESTORE_AUTHORITY_HOST": "https://login.microsoftonline.com/common"},
            "GRAPHRESTORE_AUTHORITY_HOST",
        ),
        "ca file not pem": ({"GRAPHRESTORE_CA_FILE": str(not_pem)}, "GRAPHRESTORE_CA_FILE"),
    }


CASES = [
    "no tenant",
    "bad tenant",
    "no client id",
    "client id not a guid",
    "no credential",
    "two credentials",
    "secret file missing",
    "secret file empty",
    "cert not pem",
    "listen not host:port",
    "auth unknown",
    "auth none off loopback",
    "graph url plain http",
    "authority with path",
    "ca file not pem",
]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_setting_exits_2_naming_the_variable(
    emulator: Emulator, tmp_path: Path, case: str
) -> None:
    changes, variable = bad_settings(emulator, tmp_path)[case]
    env = emulator.gateway_env()
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    result = run_gateway(env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"graphrestore-gateway: {variable}: ")
