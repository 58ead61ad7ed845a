"""`graph-emulator --profile realistic`: a Graph that throttles per tenant, fails now and
then, resolves bulk requests in the background, lists new sessions late, fails a share of
artifacts and takes longer for larger restores; each number a setting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from processes import Emulator, running_emulator

SESSIONS = "/oneDriveForBusinessRestoreSessions"
# Everything the profile does by chance off, so each test turns on only what it shows.
QUIET = {
    "unavailable_share": 0,
    "gateway_timeout_share": 0,
    "artifact_failure_share": 0,
    "throttle_requests": 100_000,
}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Emulator]:
    with running_emulator(
        tmp_path, "--profile", "realistic", "--seed-drives", "5", "--realistic-seed", "7"
    ) as emulator:
        realism(emulator, **QUIET)
        yield emulator


def realism(emulator: Emulator, **changes: Any) -> dict[str, Any]:
    answer = emulator.control.patch("/_emulator/realism", json=changes)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def new_session(graph: httpx.Client, *points: str) -> str:
    body = {
        "driveRestoreArtifacts": [
            {"restorePoint": {"id": p}, "destinationType": "new"} for p in points
        ]
    }
    answer = graph.post(SESSIONS, json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def session(graph: httpx.Client, session_id: str) -> dict[str, Any]:
    answer = graph.get(f"/restoreSessions/{session_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_every_setting_has_its_default_and_source_and_the_default_profile_has_none(
    tmp_path: Path,
) -> None:
    with running_emulator(tmp_path) as default:
        assert default.control.get("/_emulator/realism").status_code == 404
    from graph_emulator.realistic import Realism

    for name, default_value, source in Realism.settings():
        assert source, name
        assert isinstance(default_value, int | float), name
    assert dict(Realism().to_json())["max_active_sessions"] == 25


def test_the_tenant_budget_is_shared_by_every_app_and_429s_as_documented(
    lab: Emulator,
) -> None:
    realism(lab, throttle_requests=3, throttle_window_s=60, retry_after_date_share=0)
    with (
        lab.graph_client() as gateway_app,
        lab.graph_client(roles=["BackupRestore-Restore.Read.All"]) as other,
    ):
        assert [gateway_app.get("/restoreSessions").status_code for _ in range(3)] == [200] * 3
        throttled = other.get("/restoreSessions")
    assert throttled.status_code == 429
    error = throttled.json()["error"]
    assert error["code"] == "TooManyRequests"
    assert error["innerError"]["status"] == "429"
    assert error["innerError"]["request-id"] == throttled.headers["request-id"]
    assert 0 < float(throttled.headers["Retry-After"]) <= 60
    assert lab.counters()["faults_injected"]["realistic 429"] == 1


def test_retry_after_comes_fractional_and_as_an_http_date(lab: Emulator) -> None:
    realism(
        lab,
        throttle_requests=1,
        throttle_window_s=30,
        retry_after_fractional_share=1,
        retry_after_date_share=0,
    )
    with lab.graph_client() as graph:
        graph.get("/restoreSessions")
        fractional = graph.get("/restoreSessions").headers["Retry-After"]
        realism(lab, retry_after_date_share=1)
        date = graph.get("/restoreSessions").headers["Retry-After"]
    assert "." in fractional and 0 < float(fractional) <= 30
    assert parsedate_to_datetime(date).tzinfo is not None


def test_503_with_and_without_retry_after_and_a_write_done_before_its_503(
    lab: Emulator,
) -> None:
    realism(
        lab,
        unavailable_share=1,
        unavailable_retry_after_share=1,
        after_work_share=1,
    )
    with lab.graph_client() as graph:
        with_header = graph.get("/restoreSessions")
        before = len(lab.control.get("/_emulator/sessions").json()["sessions"])
        create = graph.post(
            SESSIONS,
            json={
                "driveRestoreArtifacts": [
                    {"restorePoint": {"id": "rp-after-work"}, "destinationType": "new"}
                ]
            },
        )
        after = len(lab.control.get("/_emulator/sessions").json()["sessions"])
        realism(lab, unavailable_retry_after_share=0)
        without_header = graph.get("/restoreSessions")
    assert with_header.status_code == 503 and with_header.headers["Retry-After"] == "2"
    assert with_header.json()["error"]["code"] == "serviceNotAvailable"
    assert create.status_code == 503
    assert after == before + 1  # the 503 came after the session was made
    assert without_header.status_code == 503 and "Retry-After" not in without_header.headers


def test_a_504_now_and_then(lab: Emulator) -> None:
    realism(lab, gateway_timeout_share=1)
    with lab.graph_client() as graph:
        answer = graph.get("/restoreSessions")
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "gatewayTimeout"


def test_a_bulk_request_resolves_in_the_background_and_completes_once_activated(
    lab: Emulator,
) -> None:
    settings = realism(lab, bulk_resolve_base_s=10, bulk_resolve_per_name_s=1)
    drives = ["user00000@contoso.com", "user00001@contoso.com"]
    with lab.graph_client() as graph:
        session_id = graph.post(SESSIONS, json={}).json()["id"]
        bulk_path = f"{SESSIONS}/{session_id}/driveRestoreArtifactsBulkAdditionRequests"
        bulk = graph.post(
            bulk_path,
            json={
                "displayName": "the bad day",
                "drives": drives,
                "protectionTimePeriod": {
                    "startDateTime": "2026-10-01T00:00:00Z",
                    "endDateTime": "2026-11-01T00:00:00Z",
                },
                "destinationType": "new",
            },
        )
        assert bulk.status_code == 201, bulk.text
        assert bulk.json()["status"] == "active"
        assert session(graph, session_id)["restoreSessionArtifactCount"]["total"] == 0
        lab.advance_clock(settings["bulk_resolve_base_s"] + 2 * settings["bulk_resolve_per_name_s"])
        assert session(graph, session_id)["restoreSessionArtifactCount"]["total"] == 2
        assert graph.get(f"{bulk_path}/{bulk.json()['id']}").json()["status"] == "active"
        assert graph.post(f"/restoreSessions/{session_id}/activate").status_code == 200
        assert graph.get(f"{bulk_path}/{bulk.json()['id']}").json()["status"] == "completed"


def test_a_new_session_shows_in_lists_only_after_the_lag(lab: Emulator) -> None:
    """The lag is real time (Graph's own): the sped-up clock does not shorten it."""
    realism(lab, list_lag_s=1)
    with lab.graph_client() as graph:

        def listed(path: str) -> list[str]:
            return [s["id"] for s in graph.get(f"{path}?$top=1000").json()["value"]]

        session_id = new_session(graph, "rp-lagging")
        made = time.monotonic()
        lab.advance_clock(3600)
        assert session_id not in listed("/restoreSessions")
        assert session_id not in listed(SESSIONS)
        assert session(graph, session_id)["id"] == session_id  # a get finds it at once
        while session_id not in listed("/restoreSessions"):
            assert time.monotonic() - made < 30
        assert session_id in listed(SESSIONS)


def test_larger_restores_take_longer_and_a_share_of_artifacts_fail_as_documented(
    lab: Emulator,
) -> None:
    settings = realism(
        lab, activating_s=10, restore_base_s=100, restore_per_artifact_s=50, list_lag_s=0
    )
    with lab.graph_client() as graph:
        small = new_session(graph, "rp-small-1")
        large = new_session(graph, "rp-large-1", "rp-large-2", "rp-large-3")
        realism(lab, artifact_failure_share=1)
        for session_id in (small, large):
            assert graph.post(f"/restoreSessions/{session_id}/activate").status_code == 200
        lab.advance_clock(
            settings["activating_s"]
            + settings["restore_base_s"]
            + settings["restore_per_artifact_s"]
        )
        # Every artifact failed: failed, which needs the opt-in header to be named.
        assert session(graph, small)["status"] == "unknownFutureValue"
        assert session(graph, large)["status"] == "active"
        failed = graph.get(f"{SESSIONS}/{small}/driveRestoreArtifacts").json()["value"]
    assert failed[0]["status"] == "failed"
    assert failed[0]["error"]["code"] in {
        "ArtifactNotFound",
        "ArtifactCannotBeRestored",
        "InvalidRestoreTime",
    }


def test_the_active_sessions_limit_is_a_setting(lab: Emulator) -> None:
    realism(lab, max_active_sessions=1)
    with lab.graph_client() as graph:
        first, second = new_session(graph, "rp-limit-1"), new_session(graph, "rp-limit-2")
        assert graph.post(f"/restoreSessions/{first}/activate").status_code == 200
        refused = graph.post(f"/restoreSessions/{second}/activate")
    assert refused.status_code == 500
    assert refused.json()["error"]["code"] == "TooManyActiveRestoreSessions"
