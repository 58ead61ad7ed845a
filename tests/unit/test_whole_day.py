"""whole_day.py: a workload's sessions are made and activated each on its own, so one
stalled create (a 503 the gateway looks behind for seconds) holds back no other session;
the pace every session is read by is learnt on one of the largest."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from graphrestore import whole_day
from graphrestore.bulk import WORKLOADS
from graphrestore.runs import RunRecord
from graphrestore.v1 import restore_session_pb2 as pb

STALL_S = 10.0


class StallingStub:
    """A gateway whose first create does not answer until another session is activated
    (or STALL_S); every session has ended by its first read."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.creates = 0
        self.activated = threading.Event()
        self.activated_while_stalled = False

    def CreateDriveRestoreArtifactsBulkAdditionRequest(self, request: Any, timeout: float) -> Any:
        with self.lock:
            self.creates += 1
            number = self.creates
        if number == 1:
            self.activated_while_stalled = self.activated.wait(STALL_S)
        names = list(request.bulk_addition_request.drives)
        return SimpleNamespace(restore_session_id=f"s-{names[0]}", id=f"b-{names[0]}")

    def ActivateRestoreSession(self, request: Any, timeout: float) -> pb.RestoreSession:
        self.activated.set()
        return pb.RestoreSession(
            id=request.restore_session_id, status=pb.RESTORE_SESSION_STATUS_ACTIVATING
        )

    def GetRestoreSession(self, request: Any, timeout: float) -> pb.RestoreSession:
        return pb.RestoreSession(
            id=request.restore_session_id, status=pb.RESTORE_SESSION_STATUS_COMPLETED
        )

    def GetDriveRestoreArtifactsBulkAdditionRequest(self, request: Any, timeout: float) -> Any:
        return SimpleNamespace(error=SimpleNamespace(details=[]))

    def ListDriveRestoreArtifacts(self, request: Any, timeout: float) -> Any:
        return SimpleNamespace(drive_restore_artifacts=[], next_page_token="")


def test_a_stalled_create_holds_back_no_other_session(tmp_path: Path) -> None:
    stub = StallingStub()
    names = ["a@contoso.com", "b@contoso.com"]
    progress = whole_day.Progress("onedrive", len(names))
    whole_day._restore_workload(
        WORKLOADS["onedrive"],
        stub,
        names,
        2,
        progress,
        threading.Lock(),
        datetime(2026, 11, 1, tzinfo=UTC),
        pb.DESTINATION_TYPE_NEW,
        5.0,
        RunRecord(tmp_path, {"rows": {"onedrive": names}}),
        whole_day.Pace(largest=1),
    )
    assert stub.activated_while_stalled
    assert sorted(progress.sessions) == ["s-a@contoso.com", "s-b@contoso.com"]


def test_the_pace_is_learnt_on_one_of_the_largest_sessions() -> None:
    """A session's time per artifact shrinks as it grows, so the pace that forecasts the
    run's end is learnt on a session of the largest share, whichever asks first."""
    pace = whole_day.Pace(largest=910)
    assert not pace.learns("sites-500", 500)
    assert pace.learns("drives-910", 910)
    assert not pace.learns("mailboxes-910", 910)
    assert not pace.learns("sites-500", 500)


def test_any_session_learns_the_pace_when_no_largest_one_asks_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A largest session whose create failed or stalls does not leave the others
    waiting for a pace no one learns."""
    now = [1000.0]
    monkeypatch.setattr(whole_day.time, "monotonic", lambda: now[0])
    pace = whole_day.Pace(largest=910)
    assert not pace.learns("sites-500", 500)
    now[0] += whole_day.LEARNER_WAIT_S
    assert pace.learns("sites-500", 500)


class PacedSession:
    """A session of `items` artifacts on a fake clock: activating for `lead_s`, then one
    artifact every `per_artifact_s`; it records when it was read."""

    def __init__(self, items: int, lead_s: float, per_artifact_s: float) -> None:
        self.now, self.items = 0.0, items
        self.lead_s, self.per_artifact_s = lead_s, per_artifact_s
        self.reads: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def GetRestoreSession(self, request: Any, timeout: float) -> pb.RestoreSession:
        self.reads.append(self.now)
        finished = min(self.items, max(0, int((self.now - self.lead_s) / self.per_artifact_s)))
        ended = finished == self.items
        status = pb.RESTORE_SESSION_STATUS_COMPLETED if ended else pb.RESTORE_SESSION_STATUS_ACTIVE
        counts = pb.RestoreSessionArtifactCount(
            total=self.items, completed=finished, in_progress=self.items - finished
        )
        return pb.RestoreSession(
            id=request.restore_session_id, status=status, restore_session_artifact_count=counts
        )


def test_a_pace_measured_over_many_artifacts_is_not_read_again_halfway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The learner reads with backoff until artifacts finish, once more POLL_MAX_S later
    (150 finished between: the pace is known to 1 %), then when the pace says it ends:
    four reads, none halfway."""
    session = PacedSession(items=910, lead_s=1.5, per_artifact_s=0.1)
    monkeypatch.setattr(whole_day.time, "monotonic", lambda: session.now)
    monkeypatch.setattr(whole_day.time, "sleep", session.sleep)
    pace = whole_day.Pace(largest=910)
    whole_day._wait_for_end(session, "s-1", lambda _: None, 5.0, pace, 0.0, 910)
    assert session.reads[:3] == [1.0, 2.5, 2.5 + whole_day.POLL_MAX_S]
    assert len(session.reads) == 4
    # Read once it has ended, within the pace's margin.
    assert 92.5 <= session.reads[-1] <= 92.5 * whole_day.PACE_MARGIN + whole_day.POLL_MIN_S
