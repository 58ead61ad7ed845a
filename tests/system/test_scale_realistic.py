"""The bad day, small, on a Graph that behaves like Graph under load (`--profile
realistic`, its clock sped up): `restorectl restore --csv` of 60 drives, 60 mailboxes and
10 sites through the gateway, with 429s, 503s, 504s, lagging lists, bulk requests
resolving in the background and failing artifacts. Every item is restored exactly once or
named as failed, by the emulator's own records."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from graph_emulator.realistic import Realism
from processes import BIN, own_gateway, running_emulator

USERS, SITES = 60, 10
SEED, FAILING_SHARE = 23, 0.05
# Harsher than the profile's defaults, so that a run this small meets every fault.
HARSH = (
    *("--realistic-seed", str(SEED)),
    *("--realistic-throttle-requests", "6", "--realistic-throttle-window-s", "1"),
    *("--realistic-unavailable-share", "0.1", "--realistic-gateway-timeout-share", "0.05"),
    *("--realistic-artifact-failure-share", str(FAILING_SHARE)),
    # Each 503 and 504 before the work: after it, see the last test.
    *("--realistic-after-work-share", "0"),
)
# Nothing by chance: the faults the last test scripts, with lagging lists and bulk.
QUIET = (
    *("--realistic-unavailable-share", "0", "--realistic-gateway-timeout-share", "0"),
    *("--realistic-artifact-failure-share", "0"),
)


def the_day(
    tmp_path: Path, settings: tuple[str, ...], faults: tuple[dict[str, Any], ...] = ()
) -> tuple[dict[str, int], subprocess.CompletedProcess[str], list[dict[str, Any]], list[str]]:
    """restorectl's whole day on the realistic emulator with `settings` and the scripted
    `faults`: the faults injected, restorectl's run, the gateway's sessions and what they
    hold."""
    seeds = ("--seed-drives", str(USERS), "--seed-mailboxes", str(USERS))
    with (
        running_emulator(
            tmp_path / "emulator",
            *seeds,
            *("--seed-sites", str(SITES), "--time-scale", "100", "--profile", "realistic"),
            *settings,
        ) as emulator,
        own_gateway(emulator.gateway_env()) as (gateway, _),
    ):
        for fault in faults:
            emulator.fault(**fault)
        result = subprocess.run(
            [
                *(str(BIN / "restorectl"), "--address", gateway.address, "restore"),
                *("--csv", str(tmp_path / "emulator" / "protected.csv")),
                *("--point-in-time", "2026-11-01T00:00:00Z", "--destination", "new"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        sessions = emulator.control.get("/_emulator/sessions").json()["sessions"]
        injected = emulator.counters()["faults_injected"]
    ours = [s for s in sessions if s["app_id"] == emulator.info["client_id"]]
    return injected, result, ours, [p for s in ours for p in s["restore_point_ids"]]


def assert_each_item_once(
    result: subprocess.CompletedProcess[str], ours: list[dict[str, Any]], points: list[str]
) -> None:
    # Restored once at most: no restore point in two sessions, nor twice in one.
    assert len(points) == len(set(points)), "an item was put in two sessions"
    assert len(points) == 2 * USERS + SITES, result.stdout + result.stderr
    # Every session holding items ran to its end.
    assert all(s["status"] != "draft" for s in ours if s["restore_point_ids"])


def assert_no_empty_draft(ours: list[dict[str, Any]]) -> None:
    assert not [s for s in ours if not s["restore_point_ids"]], "an empty draft was left"


def test_the_whole_day_on_a_realistic_graph_restores_each_item_once_or_names_it(
    tmp_path: Path,
) -> None:
    faults, result, ours, points = the_day(tmp_path, HARSH)
    assert_each_item_once(result, ours, points)
    # The artifacts Graph failed (the seed picks them) are the ones restorectl names.
    failing = Realism(seed=SEED, artifact_failure_share=FAILING_SHARE)
    failed = {p for p in points if failing.artifact_error(p)}
    named = {
        line.split(" restore point ", 1)[1].split(":", 1)[0]
        for line in result.stdout.splitlines()
        if line.startswith("NOT RESTORED")
    }
    assert failed and named == failed, result.stdout
    assert result.returncode == 3, result.stderr
    for kind in ("realistic 429", "realistic 503", "realistic 504"):
        assert any(k.startswith(kind) for k in faults), (kind, faults)


def test_writes_graph_did_before_its_503_or_504_are_not_done_again(tmp_path: Path) -> None:
    """A bulk request Graph made before answering 503, and a session it made before a 504:
    the resends (same request id) find them, though the lists do not show them yet: the
    first in the session the request record names, the second (its id never answered)
    by looking at the lists again once they show it."""
    bulk = "/sharePointRestoreSessions/[^/]+/siteRestoreArtifactsBulkAdditionRequests$"
    faults = (
        {"kind": "apply_then_status", "method": "POST", "path": bulk, "status": 503,
         "code": "serviceNotAvailable", "retry_after_s": 1},
        {"kind": "apply_then_status", "method": "POST", "path": "/exchangeRestoreSessions$",
         "status": 504, "code": "gatewayTimeout"},
    )  # fmt: skip
    _, result, ours, points = the_day(tmp_path, QUIET, faults)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_each_item_once(result, ours, points)
    assert_no_empty_draft(ours)
