"""restorectl plan: before the bad day, what `restore --csv` would restore, what the
caller's policy refuses and what cannot be found, and what it will take; nothing is
created."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from processes import BIN, Emulator, start_mtls_gateway
from test_restorectl import restore_in_background, run_to_the_end

CALLER = "spiffe://corp/ns/ir/sa/planner"
POLICY = f"""
[[callers]]
id = "{CALLER}"
workloads = ["onedrive", "exchange"]
methods = [
  "SearchRestorePoints",
  "CreateDriveRestoreArtifactsBulkAdditionRequest",
  "CreateMailboxRestoreArtifactsBulkAdditionRequest",
  "GetDriveRestoreArtifactsBulkAdditionRequest",
  "GetMailboxRestoreArtifactsBulkAdditionRequest",
  "ActivateRestoreSession",
  "WatchRestoreSession",
  "ListDriveRestoreArtifacts",
  "ListMailboxRestoreArtifacts",
]
destination_types = ["new"]
max_artifacts = 10000
"""
SITE = "https://contoso.sharepoint.com/sites/site00001"


def test_a_plan_names_what_is_refused_and_unresolved_and_creates_nothing(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Two users and one who left, and a site the caller's rule does not reach."""
    day = tmp_path / "the-day.csv"
    day.write_text(
        "workload,email,site_url\n"
        ",user00001@contoso.com,\n,user00002@contoso.com,\n,departed@contoso.com,\n"
        f"sharepoint,,{SITE}\n"
    )
    # The emulator writes each seeded unit with its protection unit id.
    units = Path(emulator.info["ca_file"]).parent / "protected.csv"
    (tmp_path / "gateway").mkdir()
    mtls = start_mtls_gateway(emulator.gateway_env(), tmp_path / "gateway", POLICY)
    caller = mtls.ca.issue("planner", "planner", uri=CALLER)
    sessions_before = emulator.control.get("/_emulator/sessions").json()["sessions"]
    posts_before = {k: v for k, v in emulator.counters()["received"].items() if "POST" in k}

    def plan(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *(str(BIN / "restorectl"), "--address", mtls.gateway.address, *options),
                *("--ca-file", str(mtls.ca.cert_file)),
                *("--cert", str(caller.cert_file), "--key", str(caller.key_file)),
                *("plan", "--csv", str(day), "--units", str(units)),
                *("--point-in-time", "2026-11-01T00:00:00Z", "--destination", "new"),
                *("--graph-budget", "600", "--session-minutes", "10"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    as_json, for_people = plan("--json"), plan()
    try:
        assert as_json.returncode == 3, as_json.stderr
        found = json.loads(as_json.stdout)
        for workload in ("onedrive", "exchange"):
            planned = found["workloads"][workload]
            assert [r["name"] for r in planned["resolves"]] == [
                "user00001@contoso.com",
                "user00002@contoso.com",
            ]
            assert all(r["restore_point_id"] for r in planned["resolves"])
            assert all(r["restore_point_date_time"] < "2026-11-01" for r in planned["resolves"])
            [unresolved] = planned["unresolved"]
            assert unresolved["name"] == "departed@contoso.com"
            assert "no protection unit" in unresolved["reason"]
            assert planned["refused"] == []
            # Graph refuses a bulk request for the address it protects nothing of:
            # restore halves the names, and the first user's half is a session of its own.
            assert (planned["sessions"], planned["refused_bulk_requests"]) == (2, 3)
        sharepoint = found["workloads"]["sharepoint"]
        [refused] = sharepoint["refused"]
        assert refused["name"] == SITE
        assert refused["code"] == "WORKLOAD_NOT_ALLOWED"
        assert CALLER in refused["reason"]
        assert (sharepoint["resolves"], sharepoint["sessions"]) == ([], 0)
        estimate = found["estimate"]
        assert estimate["sessions"] == 4
        assert estimate["model"] == {
            "graph_calls_per_minute": 600,
            "session_minutes": 10,
            "active_sessions": 25,
        }
        # Four sessions fit in one wave of 25: the sessions take one session's time.
        assert estimate["minutes_for_sessions"] == 10
        assert estimate["expected_minutes"] == max(10, estimate["minutes_for_graph_calls"])
        assert for_people.returncode == 3, for_people.stderr
        lines = for_people.stdout.splitlines()
        assert lines[0].startswith("onedrive   3 rows: 2 resolve, 1 unresolved, 0 refused; ")
        assert f"REFUSED sharepoint {SITE}: WORKLOAD_NOT_ALLOWED: " in for_people.stdout
        assert "UNRESOLVED exchange departed@contoso.com: not protected" in for_people.stdout
        assert lines[-1] == "nothing was created"
    finally:
        assert mtls.gateway.stop() == 0
    # Nothing was created: no session, and no create of any kind reached Graph (searches
    # did: POST .../restorePoints/search).
    assert emulator.control.get("/_emulator/sessions").json()["sessions"] == sessions_before
    posts_after = {k: v for k, v in emulator.counters()["received"].items() if "POST" in k}
    assert {k: v for k, v in posts_after.items() if posts_before.get(k) != v}.keys() <= {
        "POST /v1.0/solutions/backupRestore/restorePoints/search"
    }


def test_the_restore_does_what_its_plan_said(emulator: Emulator, tmp_path: Path) -> None:
    """The same rows and caller: the plan's refused and unresolved rows and its sessions
    are the restore's, as its run record tells them."""
    day = tmp_path / "the-day.csv"
    day.write_text(
        "workload,email,site_url\n"
        ",user00021@contoso.com,\n,user00022@contoso.com,\n,left-us@contoso.com,\n"
        f"sharepoint,,{SITE}\n"
    )
    units = Path(emulator.info["ca_file"]).parent / "protected.csv"
    (tmp_path / "gateway").mkdir()
    mtls = start_mtls_gateway(emulator.gateway_env(), tmp_path / "gateway", POLICY)
    caller = mtls.ca.issue("planner", "planner", uri=CALLER)
    tls = ("--ca-file", str(mtls.ca.cert_file), "--cert", str(caller.cert_file))
    tls += ("--key", str(caller.key_file))
    asked = ("--csv", str(day), "--point-in-time", "2026-11-01T00:00:00Z")
    asked += ("--destination", "new")
    try:
        planned = json.loads(
            subprocess.run(
                [
                    *(str(BIN / "restorectl"), "--address", mtls.gateway.address, "--json"),
                    *(*tls, "plan", *asked, "--units", str(units)),
                ],
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
        )["workloads"]
        process = restore_in_background(
            mtls.gateway, *asked, "--runs-dir", str(tmp_path / "runs"), options=tls
        )
        _, stderr = run_to_the_end(emulator, process)
        assert process.returncode == 3, stderr
    finally:
        assert mtls.gateway.stop() == 0
    [run] = (tmp_path / "runs").glob("*.json")
    record = json.loads(run.read_text())
    assert record["caller"] == CALLER
    for workload, plan in planned.items():
        items = [i for i in record["items"] if i["workload"] == workload]
        assert {i["item"] for i in items if i["status"] == "refused"} == {
            r["name"] for r in plan["refused"]
        }
        assert {i["item"] for i in items if i["status"] == "unresolved"} == {
            r["name"] for r in plan["unresolved"]
        }
        made = [s for s in record["sessions"] if s["workload"] == workload]
        assert len(made) == plan["sessions"], workload
    refused = [i for i in record["items"] if i["status"] == "refused"]
    assert [(i["item"], i["code"]) for i in refused] == [(SITE, "WORKLOAD_NOT_ALLOWED")]
