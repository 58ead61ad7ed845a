"""restorectl: one command creates a session; errors come out readable, with exit 1."""

from __future__ import annotations

import json
import subprocess

from processes import BIN, Gateway


def restorectl(gateway: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "restorectl"), "--address", gateway.address, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_prints_the_new_session(gateway: Gateway) -> None:
    result = restorectl(
        gateway,
        "create",
        "--restore-point",
        "rp-ctl-1",
        "--restore-point",
        "rp-ctl-2",
        "--destination",
        "new",
    )
    assert result.returncode == 0, result.stderr
    assert "RESTORE_SESSION_STATUS_DRAFT" in result.stdout
    assert "total=2" in result.stdout
    assert "request   " in result.stdout


def test_create_json_is_machine_readable(gateway: Gateway) -> None:
    result = restorectl(
        gateway, "--json", "create", "--restore-point", "rp-ctl-3", "--destination", "inPlace"
    )
    assert result.returncode == 0, result.stderr
    session = json.loads(result.stdout)
    assert session["status"] == "RESTORE_SESSION_STATUS_DRAFT"
    assert session["restore_session_artifact_count"]["total"] == 1


def test_a_refused_create_names_the_bad_field_and_exits_1(gateway: Gateway) -> None:
    result = restorectl(
        gateway,
        "create",
        "--restore-point",
        "same",
        "--restore-point",
        "same",
        "--destination",
        "new",
    )
    assert result.returncode == 1
    assert result.stderr.startswith("INVALID_ARGUMENT: ")
    assert (
        "restore_session.drive_restore_artifacts[1].restore_point.id: duplicates" in result.stderr
    )
