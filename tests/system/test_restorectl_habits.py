"""restorectl as a person uses it: options anywhere, every workload, a bearer token from a
file, errors as JSON, exit codes in --help, progress a log can read, connection failures
explained, and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import wait_for
from pki import Authority
from processes import BIN, Emulator, Gateway, MtlsGateway, start_mtls_gateway
from test_jwt_and_secrets import JwtSetup, jwt_gateway  # noqa: F401 (a fixture)


def restorectl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "restorectl"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_global_options_come_before_or_after_the_command(gateway: Gateway) -> None:
    created = restorectl(
        "create", "--restore-point", "rp-habit-1", "--destination", "new",
        "--json", "--address", gateway.address,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    session_id = json.loads(created.stdout)["id"]
    got = restorectl("--address", gateway.address, "get", "--json", session_id)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["id"] == session_id


def test_one_session_of_each_workload(gateway: Gateway) -> None:
    # The emulator's restore points of mailboxes and sites are named so.
    for workload, point in (
        ("exchange", "rp-mailbox-habit"),
        ("sharepoint", "rp-site-habit"),
        ("onedrive", "rp-habit"),
    ):
        created = restorectl(
            "--address", gateway.address, "--json", "create", "--workload", workload,
            "--restore-point", point, "--destination", "new",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        session = json.loads(created.stdout)
        assert session["restore_session_artifact_count"]["total"] == 1
        listed = restorectl(
            "artifacts", session["id"], "--workload", workload,
            "--json", "--address", gateway.address,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        artifacts = [json.loads(line) for line in listed.stdout.splitlines()]
        assert [a["restore_point"]["id"] for a in artifacts] == [point]


def test_a_session_of_another_workload_is_not_found_under_the_default(gateway: Gateway) -> None:
    created = restorectl(
        "--address", gateway.address, "--json", "create", "--workload", "exchange",
        "--restore-point", "rp-mailbox-habit-2", "--destination", "new",
    )  # fmt: skip
    session_id = json.loads(created.stdout)["id"]
    assert restorectl("--address", gateway.address, "get", session_id).returncode == 1
    mailbox = restorectl("--address", gateway.address, "get", session_id, "--workload", "exchange")
    assert mailbox.returncode == 0, mailbox.stderr


def test_a_token_file_lets_its_caller_into_a_jwt_gateway(
    jwt_gateway: JwtSetup,  # noqa: F811
    emulator: Emulator,
    tmp_path: Path,
) -> None:
    token_file = tmp_path / "token"
    create = ("create", "--restore-point", "rp-habit-jwt", "--destination", "new")
    address = ("--address", jwt_gateway.gateway.address, "--ca-file", str(jwt_gateway.ca.cert_file))
    token_file.write_text(jwt_gateway.token(emulator) + "\n")
    by_option = restorectl(*address, "--token-file", str(token_file), *create)
    assert by_option.returncode == 0, by_option.stderr
    by_env = restorectl(*address, *create, env={"GRAPHRESTORE_TOKEN_FILE": str(token_file)})
    assert by_env.returncode == 0, by_env.stderr
    token_file.write_text(jwt_gateway.token(emulator, lifetime_s=-600))
    expired = restorectl(*address, "--json", "--token-file", str(token_file), *create)
    assert expired.returncode == 1
    assert json.loads(expired.stderr)["code"] == "UNAUTHENTICATED"
    without = restorectl(*address, *create)
    assert without.returncode == 1 and without.stderr.startswith("UNAUTHENTICATED: ")


def test_json_errors_are_one_object_with_the_reason_and_graphs_request_ids(
    emulator: Emulator, gateway: Gateway
) -> None:
    refused = restorectl(
        "--address", gateway.address, "create", "--json", "--restore-point", "same",
        "--restore-point", "same", "--destination", "new",
    )  # fmt: skip
    assert refused.returncode == 1
    error = json.loads(refused.stderr)
    assert (error["code"], error["reason"]) == ("INVALID_ARGUMENT", "INVALID_REQUEST")
    assert error["field_violations"][0]["field"].endswith("restore_point.id")

    emulator.fault(kind="status", method="GET", path="/restoreSessions/", status=404)
    missing = restorectl("--address", gateway.address, "get", "--json", "no-such-session")
    assert missing.returncode == 1
    error = json.loads(missing.stderr)
    assert error["code"] == "NOT_FOUND"
    assert error["domain"] == "graph.microsoft.com"
    assert error["graph_request_id"] and error["client_request_id"]


def test_json_usage_errors_are_one_object_too() -> None:
    refused = restorectl("get", "--json")
    assert refused.returncode == 2
    error = json.loads(refused.stderr)
    assert error["code"] == "BAD_INPUT" and "session_id" in error["message"]
    assert restorectl("get").stderr.startswith("usage: ")


def test_help_lists_the_exit_codes() -> None:
    for command in ((), ("restore",), ("get",)):
        shown = restorectl(*command, "--help")
        assert shown.returncode == 0
        codes = shown.stdout.split("exit codes:")[1]
        assert [line.split()[0] for line in codes.strip().splitlines()] == ["0", "1", "2", "3", "4"]


def test_progress_off_a_terminal_is_one_line_per_update(
    emulator: Emulator, gateway: Gateway
) -> None:
    # Bytes, not text: text mode would read a "\r" as a line end.
    process = subprocess.Popen(
        [
            *(str(BIN / "restorectl"), "--address", gateway.address, "restore"),
            *("--restore-point", "rp-habit-log-1", "--restore-point", "rp-habit-log-2"),
            *("--destination", "new"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    while process.poll() is None:
        emulator.advance_clock(60)
        wait_for(lambda: process.poll() is not None, within_s=0.25)
    stderr = process.communicate(timeout=30)[1].decode()
    assert process.returncode == 0, stderr
    assert "\r" not in stderr
    progress = [line for line in stderr.splitlines() if line.startswith("[")]
    assert len(progress) >= 2, stderr
    assert "2/2" in progress[-1]


@pytest.fixture(scope="module")
def mtls(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MtlsGateway]:
    # On every interface, so that 127.0.0.2 reaches it by a name its certificate lacks.
    env = {**emulator.gateway_env(), "GRAPHRESTORE_LISTEN": "0.0.0.0:0"}
    policy = '[[callers]]\nid = "caller"\nmethods = ["GetRestoreSession"]\n'
    mtls = start_mtls_gateway(env, tmp_path_factory.mktemp("mtls"), policy)
    yield mtls
    mtls.gateway.stop()


def explained(mtls: MtlsGateway, *options: str, address: str = "") -> str:
    """restorectl get against the mTLS gateway: it must exit 4 and say why."""
    result = restorectl(
        "--address", address or mtls.gateway.address, *options, "--json", "get", "some-session"
    )  # fmt: skip
    assert result.returncode == 4, result.stderr
    error = json.loads(result.stderr)
    assert error["code"] == "UNAVAILABLE"
    return str(error["explanation"])


def test_a_forgotten_client_certificate_is_named(mtls: MtlsGateway) -> None:
    why = explained(mtls, "--ca-file", str(mtls.ca.cert_file))
    assert "takes callers by client certificate (mTLS) and none was given" in why


def test_a_gateway_certificate_the_ca_file_does_not_trust_is_named(
    mtls: MtlsGateway, tmp_path: Path
) -> None:
    other = Authority(tmp_path, "other")
    caller = mtls.ca.issue("caller", "caller")
    files = ("--cert", str(caller.cert_file), "--key", str(caller.key_file))
    why = explained(mtls, "--ca-file", str(other.cert_file), *files)
    assert why.startswith("restorectl refused the gateway's certificate: it is not trusted by")


def test_a_name_the_gateway_certificate_lacks_is_named(mtls: MtlsGateway) -> None:
    caller = mtls.ca.issue("caller-name", "caller")
    files = ("--cert", str(caller.cert_file), "--key", str(caller.key_file))
    port = mtls.gateway.address.rpartition(":")[2]
    why = explained(mtls, "--ca-file", str(mtls.ca.cert_file), *files, address=f"127.0.0.2:{port}")
    assert "it does not name 127.0.0.2" in why


def test_a_client_certificate_of_another_ca_is_named(mtls: MtlsGateway, tmp_path: Path) -> None:
    stranger = Authority(tmp_path, "stranger").issue("stranger", "stranger")
    files = ("--cert", str(stranger.cert_file), "--key", str(stranger.key_file))
    why = explained(mtls, "--ca-file", str(mtls.ca.cert_file), *files)
    assert f"the gateway refused the client certificate {stranger.cert_file}" in why


def test_plaintext_to_a_tls_gateway_is_named(mtls: MtlsGateway) -> None:
    assert "speaks TLS and restorectl spoke plaintext" in explained(mtls)


def test_nothing_listening_is_named() -> None:
    result = restorectl("--address", "127.0.0.1:1", "list")
    assert result.returncode == 4
    assert "why: nothing listens on 127.0.0.1:1" in result.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_shell_completion_scripts(shell: str) -> None:
    script = restorectl("completion", shell)
    assert script.returncode == 0, script.stderr
    assert "restore-items" in script.stdout and "--workload" in script.stdout
    if shell == "zsh":
        assert script.stdout.startswith("#compdef restorectl")
        return
    completed = subprocess.run(
        [
            "bash",
            "-c",
            'eval "$1"; COMP_WORDS=(restorectl ar); COMP_CWORD=1; '
            "_shtab_restorectl; echo ${COMPREPLY[@]}",
            "-",
            script.stdout,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert completed.stdout.split() == ["artifacts"], completed.stderr


def test_search_finds_a_sites_restore_point_under_its_workload(
    emulator: Emulator, gateway: Gateway
) -> None:
    with emulator.graph_client() as graph:
        site = graph.get("/siteProtectionUnits").json()["value"][0]["id"]
    found = restorectl(
        "search", "--workload", "sharepoint", "--protection-unit", site,
        "--point-in-time", "2026-11-01T00:00:00Z", "--json", "--address", gateway.address,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["protection_unit_id"] == site
