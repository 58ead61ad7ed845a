"""restorectl: one command creates a session; errors come out readable, with exit 1."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from processes import (
    BIN,
    Emulator,
    Gateway,
    output_with_the_clock_moving,
    own_gateway,
    running_emulator,
)


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


def restore_in_background(
    gateway: Gateway, *args: str, options: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "restorectl"), "--address", gateway.address, *options, "restore", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_to_the_end(emulator: Emulator, process: subprocess.Popen[str]) -> tuple[str, str]:
    """Move the emulator's clock until restorectl is done (it follows the session)."""
    return output_with_the_clock_moving(emulator, process, step_s=60, steps=240)


def test_restore_a_csv_with_a_failing_drive_exits_3_and_names_it(
    emulator: Emulator, gateway: Gateway, tmp_path: Path
) -> None:
    points = [f"rp-csv-{i}" for i in range(120)]
    emulator.control.post("/_emulator/failing-restore-points", json={"ids": ["rp-csv-77"]})
    csv_file = tmp_path / "drives.csv"
    csv_file.write_text("restore_point_id,owner\n" + "".join(f"{p},someone\n" for p in points))
    process = restore_in_background(gateway, "--csv", str(csv_file), "--destination", "new")
    stdout, stderr = run_to_the_end(emulator, process)
    assert process.returncode == 3, stderr
    assert "119 of 120 restored, 1 failed" in stdout
    assert "FAILED restore point rp-csv-77: ArtifactNotFound" in stdout
    assert "120/120" in stderr  # the progress bar reached the end


def test_restore_protection_units_at_a_point_in_time_as_json(
    emulator: Emulator, gateway: Gateway, tmp_path: Path
) -> None:
    with emulator.graph_client() as graph:
        units = [u["id"] for u in graph.get("/driveProtectionUnits?$top=25").json()["value"]]
    csv_file = tmp_path / "units.csv"
    csv_file.write_text("protection_unit_id\n" + "\n".join(units) + "\n")
    process = restore_in_background(
        gateway,
        *("--csv", str(csv_file), "--point-in-time", "2026-10-25T00:00:00Z"),
        *("--destination", "new"),
        options=("--json",),
    )
    stdout, stderr = run_to_the_end(emulator, process)
    assert process.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["status"] == "RESTORE_SESSION_STATUS_COMPLETED"
    assert (summary["total"], summary["completed"], summary["failed"]) == (25, 25, [])


def test_restore_refuses_units_without_a_point_in_time(gateway: Gateway, tmp_path: Path) -> None:
    result = restorectl(gateway, "restore", "--protection-unit", "u-1", "--destination", "new")
    assert result.returncode == 2
    assert "--point-in-time" in result.stderr


def test_session_commands_as_json(emulator: Emulator, gateway: Gateway) -> None:
    created = json.loads(
        restorectl(
            gateway, "--json", "create", "--restore-point", "rp-cmd", "--destination", "new"
        ).stdout
    )
    session_id = created["id"]
    got = json.loads(restorectl(gateway, "--json", "get", session_id).stdout)
    assert got["status"] == "RESTORE_SESSION_STATUS_DRAFT"
    listed = [
        json.loads(line) for line in restorectl(gateway, "--json", "list").stdout.splitlines()
    ]
    assert session_id in {s["id"] for s in listed}
    artifacts = [
        json.loads(x)
        for x in restorectl(gateway, "--json", "artifacts", session_id).stdout.splitlines()
    ]
    assert [a["restore_point"]["id"] for a in artifacts] == ["rp-cmd"]
    emulator.fault(
        kind="status",
        method="POST",
        path="/activate$",
        status=500,
        code="TooManyActiveRestoreSessions",
    )
    activated = restorectl(gateway, "--json", "activate", session_id)
    assert activated.returncode == 0, activated.stderr
    assert "tenant busy" in activated.stderr
    assert json.loads(activated.stdout)["status"] == "RESTORE_SESSION_STATUS_ACTIVATING"
    deleted = restorectl(gateway, "delete", session_id)
    assert deleted.returncode == 1
    assert deleted.stderr.startswith("FAILED_PRECONDITION: ")


def test_restore_drives_by_owner_email_through_a_bulk_request(
    emulator: Emulator, gateway: Gateway
) -> None:
    process = restore_in_background(
        gateway,
        *("--drive", "user00010@contoso.com", "--drive", "user00011@contoso.com"),
        *("--point-in-time", "2026-10-30T00:00:00Z", "--destination", "new"),
    )
    stdout, stderr = run_to_the_end(emulator, process)
    assert process.returncode == 0, stderr
    assert "2 of 2 restored, 0 failed" in stdout


def test_the_whole_day_from_one_csv_on_the_demo_clock(tmp_path: Path) -> None:
    """1,000 users (drive and mailbox each) and 100 sites, restored in parallel sessions
    by one `restorectl restore` run against the demo tenant of `make run`; a site no
    backup knows and a user who left (Graph refuses a whole bulk request for one unknown
    address) are named as not restored, with exit 3, and hold up nobody else."""
    users, sites = 1000, 100
    seeds = ("--seed-drives", str(users), "--seed-mailboxes", str(users))
    demo = ("--seed-sites", str(sites), "--time-scale", "10")
    with (
        running_emulator(tmp_path / "emulator", *seeds, *demo) as emulator,
        own_gateway(emulator.gateway_env()) as (gateway, _),
    ):
        csv_file = tmp_path / "the-day.csv"
        rows = [f",user{i:05d}@contoso.com," for i in range(users)]  # no workload: all
        rows += [
            f"sharepoint,,https://contoso.sharepoint.com/sites/site{i:05d}" for i in range(sites)
        ]
        rows.append("sharepoint,,https://contoso.sharepoint.com/sites/never-backed-up")
        rows.append(",departed@contoso.com,")
        csv_file.write_text("workload,email,site_url\n" + "\n".join(rows) + "\n")
        result = subprocess.run(
            [
                *(str(BIN / "restorectl"), "--address", gateway.address, "restore"),
                *("--csv", str(csv_file), "--point-in-time", "2026-11-01T00:00:00Z"),
                *("--destination", "new"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        sessions = emulator.control.get("/_emulator/sessions").json()["sessions"]
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    for line, workload in zip(lines[:2], ("onedrive", "exchange"), strict=True):
        assert line.startswith(f"{workload:<10} 1000 of 1001 restored in "), line
        assert line.endswith(" sessions, 0 failed, 0 unresolved, 1 refused"), line
    assert lines[2] == (
        "sharepoint 100 of 101 restored in 1 session, 0 failed, 1 unresolved, 0 refused"
    )
    assert sorted(lines[3:]) == sorted(
        [
            *(
                f"NOT RESTORED {workload} departed@contoso.com: "
                f"BULK_RESTORE_INVALID_CREATE_REQUEST_USER_EMAIL: {details}"
                for workload, details in (
                    ("onedrive", "Graph: No protected drive for departed@contoso.com."),
                    ("exchange", "Graph: No protected mailbox for departed@contoso.com."),
                )
            ),
            "NOT RESTORED sharepoint https://contoso.sharepoint.com/sites/never-backed-up: "
            "SiteUrlNotFound: 'https://contoso.sharepoint.com/sites/never-backed-up' has not "
            "been backed up",
        ]
    )
    # One progress line per workload, the last of each at its end.
    final = {line.split()[0]: line for line in result.stderr.splitlines() if "[" in line}
    assert "1000/1000" in final["onedrive"] and "1000/1000" in final["exchange"]
    assert "100/100" in final["sharepoint"]
    # Every session completed, none left empty by a refused request, no user twice.
    made = [s for s in sessions if s["restore_point_ids"]]
    assert all(s["status"] == "completed" for s in made)
    gateways = [s for s in sessions if s["app_id"] == emulator.info["client_id"]]
    assert not [s for s in gateways if not s["restore_point_ids"]]
    points = [p for s in made for p in s["restore_point_ids"]]
    assert len(points) == len(set(points)) == 2 * users + sites
