"""restorectl ls / restore-items: files and folders of a user's OneDrive or a site as they
were, listed and restored by path, end to end through the command and the gateway."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from helpers import wait_for
from processes import BIN, Emulator, Gateway, output_with_the_clock_moving

AT = "2026-11-01T00:00Z"
USER = "user00007@contoso.com"


@pytest.fixture(scope="module")
def units(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units CSV a person would keep: the emulator's drives (by e-mail) and its
    sites (by URL, as Graph lists them)."""
    drives = Path(emulator.info["ca_file"]).parent / "protected-drives.csv"
    with drives.open(newline="") as handle:
        rows = [(r["protection_unit_id"], r["email"], "") for r in csv.DictReader(handle)]
    with emulator.graph_client() as graph:
        sites = graph.get("/siteProtectionUnits").json()["value"]
    rows += [(s["id"], "", s["siteWebUrl"]) for s in sites]
    path = tmp_path_factory.mktemp("units") / "units.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["protection_unit_id", "email", "site_url"])
        writer.writerows(rows)
    return path


def run(emulator: Emulator, gateway: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    """restorectl, with the emulator's clock moved on while it waits (a browse session is
    created after 3 s of Graph's time, a restore takes minutes)."""
    env = {k: v for k, v in os.environ.items() if k != "GRAPHRESTORE_UNITS"}
    process = subprocess.Popen(
        [str(BIN / "restorectl"), "--address", gateway.address, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    stdout, stderr = output_with_the_clock_moving(emulator, process, step_s=20, steps=400)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def restore_posts(emulator: Emulator) -> int:
    received = emulator.counters()["received"]
    return sum(n for k, n in received.items() if k.startswith("POST") and "RestoreSessions" in k)


def test_ls_lists_a_folder_as_it_was(emulator: Emulator, gateway: Gateway, units: Path) -> None:
    where = ("--user", USER, "--units", str(units), "--at", AT)
    result = run(emulator, gateway, "ls", *where, "/Documents/Finance")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("/Documents/Finance as of 2026-10-3")
    assert "no modified times" in lines[1]
    entries = {line.split()[-1]: line.split()[0] for line in lines[3:]}
    assert entries["Invoices"] == "folder"
    assert entries["budget-2026.xlsx"] == "file"
    assert lines[2] == f"total {len(entries)}"
    listed = run(emulator, gateway, "--json", "ls", *where, "/Documents/Contracts/msa.docx")
    assert listed.returncode == 0, listed.stderr
    [msa] = json.loads(listed.stdout)["items"]
    assert (msa["name"], msa["kind"]) == ("msa.docx", "file")
    assert msa["size_in_bytes"] > 0


def test_restore_a_folder_and_a_file_of_a_drive(
    emulator: Emulator, gateway: Gateway, units: Path
) -> None:
    result = run(
        emulator,
        gateway,
        *("restore-items", "--user", USER, "--units", str(units), "--at", AT),
        *("/Documents/Finance", "/Documents/Contracts/msa.docx"),
    )
    assert result.returncode == 0, result.stderr
    assert "2/2" in result.stderr  # the progress bar reached the end
    lines = result.stdout.splitlines()
    assert lines[0].endswith("RESTORE_SESSION_STATUS_COMPLETED: 2 of 2")
    finance, msa = (line.split() for line in lines[1:])
    assert finance[:2] == ["/Documents/Finance", "->"]
    assert finance[2].startswith("/Documents/Restored-") and finance[2].endswith("/Finance")
    assert msa[2] == finance[2].removesuffix("/Finance") + "/msa.docx"
    folder = finance[2].removeprefix("/Documents").removesuffix("/Finance")
    assert finance[3].endswith(f"{folder}/Finance") and finance[3].startswith("https://")
    assert msa[3].endswith(f"{folder}/msa.docx")


def test_restore_a_document_library_folder_of_a_site_as_json(
    emulator: Emulator, gateway: Gateway, units: Path
) -> None:
    with emulator.graph_client() as graph:
        site = graph.get("/siteProtectionUnits").json()["value"][3]["siteWebUrl"]
    since = len(emulator.journal())
    result = run(
        emulator,
        gateway,
        *("--json", "restore-items", "--site", site, "--units", str(units), "--at", AT),
        "/Documents/Projects",
    )
    assert result.returncode == 0, result.stderr
    # The units CSV wins: the gateway was not asked to find the site.
    assert not [r for r in emulator.journal()[since:] if "siteProtectionUnits" in r["path"]]
    summary = json.loads(result.stdout)
    assert summary["status"] == "RESTORE_SESSION_STATUS_COMPLETED"
    [item] = summary["items"]
    assert item["status"] == "ARTIFACT_RESTORE_STATUS_SUCCEEDED"
    assert item["restored_item_path"].startswith("/Documents/Restored-")
    assert item["restored_item_web_url"].startswith(site)
    assert item["restored_item_web_url"].endswith("/Projects")


def test_a_missing_path_is_refused_before_anything_is_restored(
    emulator: Emulator, gateway: Gateway, units: Path
) -> None:
    before = restore_posts(emulator)
    result = run(
        emulator,
        gateway,
        *("restore-items", "--user", USER, "--units", str(units), "--at", AT),
        *("/Documents/Finance", "/Documents/Nowhere/plan.docx"),
    )
    assert result.returncode == 2
    assert "/Documents/Nowhere/plan.docx: no /Documents/Nowhere at that time" in result.stderr
    assert restore_posts(emulator) == before
    unknown = run(
        emulator, gateway, "ls", "--user", "x@contoso.com", "--units", str(units), "--at", AT
    )
    assert unknown.returncode == 2
    assert "x@contoso.com: not in" in unknown.stderr


def test_an_item_that_fails_exits_3_and_is_named(
    emulator: Emulator, gateway: Gateway, units: Path
) -> None:
    """The restore point (of a drive no other test uses) goes bad after browsing, while
    Graph is activating the session (held back by a delay): the item fails as it starts."""
    where = ("--user", "user00063@contoso.com", "--units", str(units), "--at", AT)
    listed = run(emulator, gateway, "--json", "ls", *where, "/Documents")
    assert listed.returncode == 0, listed.stderr
    point = json.loads(listed.stdout)["restore_point_id"]
    emulator.fault(kind="delay", method="POST", path="/activate$", delay_s=3)

    def activations() -> int:
        received = emulator.counters()["received"]
        return sum(n for k, n in received.items() if k.startswith("POST") and "activate" in k)

    before = activations()
    marked = threading.Event()

    def mark_when_activating() -> None:
        if wait_for(lambda: activations() > before, 60):
            emulator.control.post("/_emulator/failing-restore-points", json={"ids": [point]})
            marked.set()

    marker = threading.Thread(target=mark_when_activating)
    marker.start()
    result = run(emulator, gateway, "restore-items", *where, "/Documents/readme.txt")
    marker.join()
    assert marked.is_set()
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines()[1] == (
        "FAILED /Documents/readme.txt: ARTIFACT_RESTORE_STATUS_FAILED"
    )


def seeded_site(emulator: Emulator, index: int) -> str:
    with emulator.graph_client() as graph:
        units = graph.get("/siteProtectionUnits").json()["value"]
    return str([u for u in units if "/sites/site" in u["siteWebUrl"]][index]["siteWebUrl"])


def test_a_site_is_listed_and_restored_by_its_url_alone(
    emulator: Emulator, gateway: Gateway
) -> None:
    """No units CSV: the gateway finds the site's unit by its URL, written as a person
    may write it."""
    site = seeded_site(emulator, 5)
    written = site.replace("/sites/", "/Sites/") + "/"
    listed = run(emulator, gateway, "--json", "ls", "--site", written, "--at", AT, "/Documents")
    assert listed.returncode == 0, listed.stderr
    names = {item["name"] for item in json.loads(listed.stdout)["items"]}
    assert {"Finance", "Contracts", "Projects", "Photos"} <= names
    result = run(
        emulator,
        gateway,
        *("--json", "restore-items", "--site", site, "--at", AT),
        "/Documents/Finance/Invoices",
    )
    assert result.returncode == 0, result.stderr
    [item] = json.loads(result.stdout)["items"]
    assert item["status"] == "ARTIFACT_RESTORE_STATUS_SUCCEEDED"
    assert item["restored_item_web_url"].startswith(site)
    assert item["restored_item_web_url"].endswith("/Invoices")


def test_a_site_no_one_protects_is_not_found_and_a_user_needs_units(
    emulator: Emulator, gateway: Gateway
) -> None:
    nowhere = "https://contoso.sharepoint.com/sites/nobody"
    unknown = run(emulator, gateway, "ls", "--site", nowhere, "--at", AT)
    assert unknown.returncode == 1
    assert "NOT_FOUND" in unknown.stderr and nowhere in unknown.stderr
    user = run(emulator, gateway, "ls", "--user", USER, "--at", AT)
    assert user.returncode == 2
    assert "delegated callers only" in user.stderr
    assert "--units" in user.stderr and "--drive-unit" in user.stderr


def test_more_items_than_graph_takes_in_one_call_are_restored_once_each(
    emulator: Emulator, gateway: Gateway, units: Path
) -> None:
    """Every file and folder of a drive (more than 50; the seeded tree has at most some
    90): one create of 50, the rest added 50 at a time; each item restored once, though
    an addition's answer is lost."""
    where = ("--user", "user00011@contoso.com", "--units", str(units), "--at", AT)
    paths: list[str] = []
    folders = ["/Documents"]
    while folders:
        folder = folders.pop()
        listed = run(emulator, gateway, "--json", "ls", *where, folder)
        assert listed.returncode == 0, listed.stderr
        for item in json.loads(listed.stdout)["items"]:
            paths.append(f"{folder}/{item['name']}")
            if item["kind"] == "folder":
                folders.append(paths[-1])
    assert len(paths) > 50
    since = len(emulator.journal())
    # The first addition's answer is lost after Graph applied it: sent again, it adds
    # nothing twice.
    sessions = "/v1.0/solutions/backupRestore/oneDriveForBusinessRestoreSessions"
    emulator.fault(kind="apply_then_drop", method="PATCH", path=f"{sessions}/[^/]+$")
    result = run(emulator, gateway, "--json", "restore-items", *where, *paths)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [item["path"] for item in summary["items"]] == paths
    assert {item["status"] for item in summary["items"]} == {"ARTIFACT_RESTORE_STATUS_SUCCEEDED"}
    sent = [
        r["method"]
        for r in emulator.journal()[since:]
        if (r["method"] == "POST" and r["path"].endswith(sessions))
        or (r["method"] == "PATCH" and f"{sessions}/" in r["path"])
    ]
    assert sent == ["POST"] + ["PATCH"] * ((len(paths) - 1) // 50)
    # Each folder on the way is browsed once, however many of the paths pass it.
    browsed = [r for r in emulator.journal()[since:] if r["path"].endswith("/browse")]
    assert len(browsed) < len(paths) / 2
