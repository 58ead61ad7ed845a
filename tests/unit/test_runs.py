"""runs.py: a run record on disk is whole after every step (a crash loses nothing done)."""

from __future__ import annotations

import json
from pathlib import Path

from graphrestore.runs import RunRecord


def on_disk(record: RunRecord) -> dict[str, object]:
    data: dict[str, object] = json.loads(record.path.read_text())
    return data


def test_every_step_is_on_disk_at_once_and_nothing_half_written(tmp_path: Path) -> None:
    record = RunRecord(tmp_path / "runs", {"rows": {"onedrive": ["a@contoso.com"]}})
    assert on_disk(record)["ended"] == ""
    record.session_made("onedrive", "s-1", ["a@contoso.com"], "r-1", "b-1")
    assert [s["restore_session_id"] for s in on_disk(record)["sessions"]] == ["s-1"]
    record.caller_seen("spiffe://corp/a")
    record.caller_seen("spiffe://corp/b")  # the first answer's is kept
    record.waited(2.5, "ActivateRestoreSession", "TOO_MANY_ACTIVE_RESTORE_SESSIONS")
    record.items([{"workload": "onedrive", "status": "restored", "item": "p-1"}])
    saved = on_disk(record)
    assert saved["caller"] == "spiffe://corp/a"
    assert [w["seconds"] for w in saved["waits"]] == [2.5]
    assert len(saved["items"]) == 1
    record.finish("everything restored")
    assert on_disk(record)["result"] == "everything restored"
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [record.path.name]


def test_progress_is_one_sample_per_change_summed_over_sessions(tmp_path: Path) -> None:
    record = RunRecord(tmp_path, {"rows": {}})
    record.progress("onedrive", "s-1", 1, 0)
    record.progress("onedrive", "s-1", 1, 0)  # unchanged: no sample
    record.progress("onedrive", "s-2", 2, 1)
    record.finish("")
    samples = on_disk(record)["progress"]
    assert [(p["completed"], p["failed"]) for p in samples] == [(1, 0), (3, 1)]
