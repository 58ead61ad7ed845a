"""restore/watch.py's Pace: a restoring session is read when its pace says it ends (within
bounds), not every second while its counts change."""

from __future__ import annotations

from typing import Any

from graphrestore_gateway.restore.watch import POLL_MAX_S, POLL_MIN_S, Pace


def session(finished: int, total: int = 100) -> dict[str, Any]:
    return {
        "status": "active",
        "restoreSessionArtifactCount": {"total": total, "completed": finished, "failed": 0},
    }


def test_until_artifacts_finish_twice_the_session_is_read_every_second() -> None:
    pace = Pace()
    assert pace.next_poll_s(session(0), 0.0) == POLL_MIN_S
    assert pace.next_poll_s(session(1), 1.0) == POLL_MIN_S


def test_once_the_pace_is_known_the_next_read_is_when_it_says_the_session_ends() -> None:
    pace = Pace()
    pace.next_poll_s(session(10, total=20), 0.0)
    # 5 artifacts in 2 s: the 5 left take 2 s more.
    assert pace.next_poll_s(session(15, total=20), 2.0) == 2.0


def test_a_long_restore_is_still_read_now_and_then() -> None:
    pace = Pace()
    pace.next_poll_s(session(1, total=10_000), 0.0)
    assert pace.next_poll_s(session(2, total=10_000), 2.0) == POLL_MAX_S
