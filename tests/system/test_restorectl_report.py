"""After the bad day: every `restorectl restore` leaves a run record, and `restorectl
report` renders it as CSV, JSON and one HTML page an auditor opens in a browser (here
headless Chromium, Debian's `chromium`)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from processes import BIN, Emulator, Gateway
from test_restorectl import restore_in_background, run_to_the_end

POINT_IN_TIME = "2026-11-01T00:00:00Z"
SITE = "https://contoso.sharepoint.com/sites/site00002"


def chromium() -> str:
    """Debian's chromium, or a plain skip; in CI, a failure."""
    found = shutil.which("chromium")
    if found is None and os.environ.get("CI"):
        pytest.fail("the report test must run in CI: chromium is not installed")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def headless(browser: str, page: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", *options, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )


def drive_point(emulator: Emulator, email: str) -> str:
    """The restore point Graph's bulk request picks for a user's drive."""
    units = Path(emulator.info["ca_file"]).parent / "protected.csv"
    with units.open(newline="") as handle:
        [unit] = [
            r["protection_unit_id"]
            for r in csv.DictReader(handle)
            if r["workload"] == "onedrive" and r["email"] == email
        ]
    with emulator.graph_client() as graph:
        found = graph.post(
            "/restorePoints/search",
            json={
                "protectionUnitIds": [unit],
                "protectionTimePeriod": {
                    "startDateTime": "2026-10-02T00:00:00Z",
                    "endDateTime": POINT_IN_TIME,
                },
                "restorePointPreference": "latest",
            },
        ).json()
    return str(found["searchResults"][0]["restorePoint"]["id"])


def report(run: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "restorectl"), "report", str(run), *options],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_run_is_recorded_and_reported_as_csv_json_and_html(
    emulator: Emulator, gateway: Gateway, tmp_path: Path
) -> None:
    browser = chromium()
    failing = drive_point(emulator, "user00013@contoso.com")
    emulator.control.post("/_emulator/failing-restore-points", json={"ids": [failing]})
    # Graph runs 25 sessions already at the first activate: the gateway says when to retry.
    emulator.fault(
        kind="status", method="POST", path="/activate$", status=500,
        code="TooManyActiveRestoreSessions",
    )  # fmt: skip
    day = tmp_path / "the-day.csv"
    day.write_text(
        "workload,email,site_url\n"
        ",user00012@contoso.com,\n,user00013@contoso.com,\n"
        "onedrive,departed@contoso.com,\n"
        f"sharepoint,,{SITE}\n"
    )
    runs_dir = tmp_path / "runs"
    process = restore_in_background(
        gateway,
        *("--csv", str(day), "--point-in-time", POINT_IN_TIME),
        *("--destination", "new", "--runs-dir", str(runs_dir)),
    )
    _, stderr = run_to_the_end(emulator, process)
    assert process.returncode == 3, stderr
    [run] = runs_dir.glob("*.json")
    assert f"run record {run}" in stderr

    record = json.loads(run.read_text())
    assert record["caller"] == "anonymous"  # what the gateway (GRAPHRESTORE_AUTH=none) saw
    assert record["ended"] > record["started"]
    assert record["asked"]["rows"]["onedrive"] == [
        "user00012@contoso.com",
        "user00013@contoso.com",
        "departed@contoso.com",
    ]
    # Graph refuses a bulk request for one unknown address: the drives were halved until
    # it stood alone ([12] and [13] each made a session).
    assert sorted(s["workload"] for s in record["sessions"]) == [
        "exchange",
        "onedrive",
        "onedrive",
        "sharepoint",
    ]
    assert all(s["restore_session_id"] and s["request_id"] for s in record["sessions"])
    [wait] = record["waits"]
    assert (wait["method"], wait["reason"]) == (
        "ActivateRestoreSession",
        "TOO_MANY_ACTIVE_RESTORE_SESSIONS",
    )

    items = list(csv.DictReader(io.StringIO(report(run, "--format", "csv").stdout)))
    by_status = {(i["workload"], i["status"]): i for i in items}
    assert by_status[("onedrive", "failed")]["restore_point_id"] == failing
    assert by_status[("onedrive", "failed")]["code"] == "ArtifactNotFound"
    unresolved = by_status[("onedrive", "unresolved")]
    assert unresolved["item"] == "departed@contoso.com"
    assert unresolved["code"] == "BULK_RESTORE_INVALID_CREATE_REQUEST_USER_EMAIL"
    assert unresolved["graph_request_id"]

    summary = json.loads(report(run, "--format", "json").stdout)["summary"]
    assert summary["workloads"]["onedrive"] == {
        "rows": 3,
        "sessions": 2,
        "restored": 1,
        "failed": 1,
        "refused": 0,
        "unresolved": 1,
        "failed_by_code": {"ArtifactNotFound": 1},
    }
    assert (summary["workloads"]["exchange"]["restored"], summary["caller"]) == (2, "anonymous")

    page = tmp_path / "report.html"
    assert report(run, "--format", "html", "-o", str(page)).returncode == 0
    html = page.read_text()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html.replace(SITE, "") and "<script" not in html
    dom = headless(browser, page, "--dump-dom").stdout
    for workload, restored in (("onedrive", 1), ("exchange", 2), ("sharepoint", 1)):
        assert f'data-workload="{workload}" data-count="restored">{restored}</td>' in dom
        assert f'class="series" data-workload="{workload}"' in dom
        assert (
            f'data-last="{restored}"' in dom.split(f'class="series" data-workload="{workload}"')[1]
        )
    assert 'data-workload="onedrive" data-count="unresolved">1</td>' in dom
    assert 'data-workload="all" data-count="failed">1</td>' in dom
    assert '<rect class="wait"' in dom
    assert "departed@contoso.com" in dom and "ArtifactNotFound" in dom
    screenshot = tmp_path / "report.png"
    shot = headless(browser, page, f"--screenshot={screenshot}", "--window-size=1000,1300")
    assert screenshot.read_bytes().startswith(b"\x89PNG"), shot.stderr
