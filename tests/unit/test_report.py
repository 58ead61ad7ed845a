"""report.py: a run record rendered for an auditor, whatever the names in it hold."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from graphrestore import report

HOSTILE = '<img src=x onerror="fetch(`https://evil.example`)">@contoso.com'


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "run_id": "20261203T120000Z-abcd1234",
        "caller": "spiffe://corp/ns/ir/sa/<responder>",
        "started": "2026-12-03T12:00:00.000Z",
        "ended": "2026-12-03T12:10:00.000Z",
        "result": "not everything restored",
        "asked": {
            "address": "gateway:50051",
            "csv": "day.csv",
            "point_in_time": "2026-11-01T00:00:00+00:00",
            "destination": "new",
            "rows": {"onedrive": ["a@contoso.com", HOSTILE], "sharepoint": ["https://s/x"]},
        },
        "sessions": [
            {
                "workload": "onedrive",
                "restore_session_id": "s-1",
                "bulk_addition_request_id": "b-1",
                "request_id": "r-1",
                "names": ["a@contoso.com"],
                "created": "2026-12-03T12:00:01.000Z",
            }
        ],
        "items": [
            {"workload": "onedrive", "status": "restored", "item": "restore point p-1"},
            {"workload": "onedrive", "status": "unresolved", "item": HOSTILE, "code": "X"},
            {"workload": "sharepoint", "status": "refused", "item": "https://s/x", "code": "W"},
        ],
        "waits": [
            {
                "at": "2026-12-03T12:01:00.000Z",
                "seconds": 30.0,
                "method": "ActivateRestoreSession",
                "reason": "TOO_MANY_ACTIVE_RESTORE_SESSIONS",
            }
        ],
        "progress": [
            {"at": "2026-12-03T12:05:00.000Z", "workload": "onedrive", "completed": 1, "failed": 0}
        ],
    }
    return base | changes


def test_names_are_text_in_the_page_never_markup() -> None:
    page = report.as_html(record())
    assert "<img" not in page and "&lt;img src=x" in page
    assert "&lt;responder&gt;" in page
    assert "<script" not in page and 'evil.example`)">' not in page


def test_the_page_fetches_nothing() -> None:
    page = report.as_html(record())
    assert "default-src 'none'" in page
    assert "src=" not in page.replace("src=x", "")  # only the escaped hostile name


def test_counts_per_workload_and_the_chart_series() -> None:
    found = report.summary(record())
    assert found["workloads"]["onedrive"] | {"failed_by_code": {}} == {
        "rows": 2,
        "sessions": 1,
        "restored": 1,
        "failed": 0,
        "refused": 0,
        "unresolved": 1,
        "failed_by_code": {},
    }
    assert found["workloads"]["sharepoint"]["refused"] == 1
    assert (found["waits"], found["waited_s"]) == (1, 30.0)
    page = report.as_html(record())
    assert 'class="series" data-workload="onedrive" data-samples="1" data-last="1"' in page
    assert 'class="series" data-workload="sharepoint" data-samples="0" data-last="0"' in page
    assert page.count('<rect class="wait"') == 2  # the band and its legend


def test_a_run_that_never_ended_says_so() -> None:
    found = report.summary(record(ended="", result=""))
    assert found["ended"] == found["result"] == "(did not finish)"
    assert "(did not finish)" in report.as_html(record(ended="", result=""))


def test_csv_has_one_row_per_item_and_json_the_summary() -> None:
    rows = list(csv.DictReader(io.StringIO(report.as_csv(record()))))
    assert [r["status"] for r in rows] == ["restored", "unresolved", "refused"]
    assert rows[1]["item"] == HOSTILE
    assert json.loads(report.as_json(record()))["summary"]["caller"].endswith("<responder>")
