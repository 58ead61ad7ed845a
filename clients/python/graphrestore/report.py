"""`restorectl report`: a run record (runs.py) as an auditor reads it: CSV (one row per
item), JSON, or one self-contained HTML page (inline CSS and SVG, no script, nothing
fetched: its Content-Security-Policy forbids it) with who asked, when, what was asked,
what was restored, failed (with Graph's codes), refused and unresolved, per workload,
and a timeline of items restored over time with the waits Graph asked for."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime
from html import escape
from typing import Any

from graphrestore.restore_flow import clock
from graphrestore.runs import FAILED, REFUSED, RESTORED, UNRESOLVED

STATUSES = (RESTORED, FAILED, REFUSED, UNRESOLVED)
ITEM_COLUMNS = (
    "workload",
    "status",
    "item",
    "restore_point_id",
    "restore_session_id",
    "artifact_id",
    "code",
    "message",
    "completed",
    "graph_request_id",
)
COLOURS = {"onedrive": "#0364b8", "exchange": "#c05a00", "sharepoint": "#038387"}
CHART_WIDTH, CHART_HEIGHT, MARGIN = 860, 300, 48


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """Who, when, what was asked, and per workload what became of it."""
    workloads = {}
    for workload, rows in record["asked"]["rows"].items():
        items = [i for i in record["items"] if i["workload"] == workload]
        counted = Counter(i["status"] for i in items)
        workloads[workload] = {
            "rows": len(rows),
            "sessions": sum(1 for s in record["sessions"] if s["workload"] == workload),
            **{status: counted[status] for status in STATUSES},
            "failed_by_code": dict(Counter(i["code"] for i in items if i["status"] == FAILED)),
        }
    return {
        "run_id": record["run_id"],
        "caller": record["caller"],
        "started": record["started"],
        "ended": record["ended"] or "(did not finish)",
        "result": record["result"] or "(did not finish)",
        "point_in_time": record["asked"]["point_in_time"],
        "destination": record["asked"]["destination"],
        "csv": record["asked"]["csv"],
        "gateway": record["asked"]["address"],
        "waits": len(record["waits"]),
        "waited_s": round(sum(w["seconds"] for w in record["waits"]), 3),
        "workloads": workloads,
    }


def as_csv(record: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, ITEM_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: item.get(c, "") for c in ITEM_COLUMNS} for item in record["items"])
    return out.getvalue()


def as_json(record: dict[str, Any]) -> str:
    return json.dumps({"summary": summary(record), **record}, indent=1)


def as_html(record: dict[str, Any]) -> str:
    found = summary(record)
    facts = [
        ("Asked by", found["caller"] or "(not told)"),
        ("Started", found["started"]),
        ("Ended", found["ended"]),
        ("Result", found["result"]),
        ("Restore as of", found["point_in_time"]),
        ("Destination", found["destination"]),
        ("Rows from", found["csv"] or "(command line)"),
        ("Gateway", found["gateway"]),
        ("Waits asked for", f"{found['waits']} ({found['waited_s']:g} s)"),
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Restore run {escape(found["run_id"])}</title>
<style>{STYLE}</style></head>
<body>
<h1>Restore run <code>{escape(found["run_id"])}</code></h1>
<dl id="facts">{"".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)}</dl>
<h2>Per workload</h2>
{_counts_table(found["workloads"])}
<h2>Items restored over time</h2>
{_timeline(record)}
<h2>Not restored</h2>
{_not_restored(record)}
<h2>Sessions</h2>
{_sessions(record)}
</body></html>
"""


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1b1b1b; max-width: 70em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1.2em; }
dt { font-weight: 600; } dd { margin: 0; }
table { border-collapse: collapse; max-width: 100%; }
th, td { padding: .25em .7em; border: 1px solid #ccc; overflow-wrap: break-word; }
th { white-space: nowrap; } td.id { word-break: break-all; font: 12px monospace; }
#not-restored, #sessions { table-layout: fixed; width: 100%; }
th { background: #f3f3f3; text-align: left; } td.n { text-align: right; }
td.bad { color: #a4262c; font-weight: 600; }
svg text { font: 12px system-ui, sans-serif; } .axis { stroke: #888; }
.wait { fill: #a4262c; fill-opacity: .18; stroke: #a4262c; }
"""


def _counts_table(workloads: dict[str, dict[str, Any]]) -> str:
    columns = ("rows", "sessions", *STATUSES)
    rows = []
    totals = Counter[str]()
    for workload, counts in workloads.items():
        cells = []
        for column in columns:
            totals[column] += counts[column]
            bad = " bad" if column in (FAILED, REFUSED, UNRESOLVED) and counts[column] else ""
            cells.append(
                f'<td class="n{bad}" data-workload="{escape(workload)}" '
                f'data-count="{column}">{counts[column]}</td>'
            )
        codes = ", ".join(f"{escape(c)}: {n}" for c, n in counts["failed_by_code"].items())
        rows.append(f"<tr><th>{escape(workload)}</th>{''.join(cells)}<td>{codes}</td></tr>")
    total_cells = "".join(
        f'<td class="n" data-workload="all" data-count="{c}">{totals[c]}</td>' for c in columns
    )
    header = "".join(f"<th>{c}</th>" for c in columns)
    return (
        f'<table id="counts"><tr><th>workload</th>{header}<th>failed by code</th></tr>'
        f"{''.join(rows)}<tr><th>all</th>{total_cells}<td></td></tr></table>"
    )


def _timeline(record: dict[str, Any]) -> str:
    """Completed items per workload over the run's seconds (one polyline each), with
    every wait Graph asked for as a shaded band."""
    started = _moment(record["started"])
    moments = [p["at"] for p in record["progress"]] + [w["at"] for w in record["waits"]]
    ended = record["ended"] or max(moments, default=record["started"])
    span_s = max((_moment(ended) - started).total_seconds(), 1.0)
    tallest = max((p["completed"] for p in record["progress"]), default=0) or 1
    width, height = CHART_WIDTH - 2 * MARGIN, CHART_HEIGHT - 2 * MARGIN

    def x(at: str) -> float:
        return MARGIN + width * (_moment(at) - started).total_seconds() / span_s

    def y(count: int) -> float:
        return MARGIN + height * (1 - count / tallest)

    parts = [
        f'<line class="axis" x1="{MARGIN}" y1="{MARGIN + height}" '
        f'x2="{MARGIN + width}" y2="{MARGIN + height}"/>',
        f'<line class="axis" x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{MARGIN + height}"/>',
        f'<text x="{MARGIN - 6}" y="{MARGIN + 4}" text-anchor="end">{tallest}</text>',
        f'<text x="{MARGIN - 6}" y="{MARGIN + height + 4}" text-anchor="end">0</text>',
        *(
            f'<text x="{MARGIN + width * q / 4:.1f}" y="{MARGIN + height + 18}" '
            f'text-anchor="middle">{_elapsed(span_s * q / 4, span_s)}</text>'
            for q in range(5)
        ),
    ]
    for wait in record["waits"]:
        band = max(width * wait["seconds"] / span_s, 1.0)
        parts.append(
            f'<rect class="wait" x="{x(wait["at"]):.1f}" y="{MARGIN}" width="{band:.1f}" '
            f'height="{height}" data-seconds="{wait["seconds"]:g}"><title>waited '
            f"{wait['seconds']:g} s on {escape(wait['method'])} ({escape(wait['reason'])})"
            "</title></rect>"
        )
    legend_x = MARGIN
    for workload in record["asked"]["rows"]:
        samples = [p for p in record["progress"] if p["workload"] == workload]
        colour = COLOURS.get(workload, "#444")
        # A count holds until the next sample: steps, not slopes.
        points, last = [f"{MARGIN:.1f},{y(0):.1f}"], 0
        for sample in samples:
            points.append(f"{x(sample['at']):.1f},{y(last):.1f}")
            last = sample["completed"]
            points.append(f"{x(sample['at']):.1f},{y(last):.1f}")
        parts.append(
            f'<polyline class="series" data-workload="{escape(workload)}" '
            f'data-samples="{len(samples)}" data-last="{last}" fill="none" '
            f'stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>'
        )
        parts.append(
            f'<rect x="{legend_x}" y="{MARGIN - 26}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{MARGIN - 16}">{escape(workload)} ({last})</text>'
        )
        legend_x += 150
    if record["waits"]:
        parts.append(
            f'<rect class="wait" x="{legend_x}" y="{MARGIN - 26}" width="12" height="12"/>'
            f'<text x="{legend_x + 16}" y="{MARGIN - 16}">wait asked for</text>'
        )
    return (
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" '
        f'height="{CHART_HEIGHT}" role="img" aria-label="items restored over time">'
        f"{''.join(parts)}</svg>"
    )


def _elapsed(seconds: float, span_s: float) -> str:
    """A time axis label: seconds for a short run, mm:ss for a longer one."""
    return f"{seconds:.1f} s" if span_s < 120 else clock(seconds)


def _not_restored(record: dict[str, Any]) -> str:
    missing = [i for i in record["items"] if i["status"] != RESTORED]
    if not missing:
        return '<p id="not-restored">Every item was restored.</p>'
    rows = "".join(
        f'<tr data-status="{escape(i["status"])}"><td>{escape(i["workload"])}</td>'
        f'<td class="bad">{escape(i["status"])}</td><td>{escape(i["item"])}</td>'
        f"<td class='id'>{escape(i.get('code', ''))}</td><td>{escape(i.get('message', ''))}</td>"
        f"<td class='id'>{escape(i.get('restore_session_id', ''))}</td>"
        f"<td class='id'>{escape(i.get('graph_request_id', ''))}</td></tr>"
        for i in missing
    )
    return (
        '<table id="not-restored"><colgroup><col style="width:9%"><col style="width:9%">'
        '<col style="width:20%"><col style="width:16%"><col style="width:20%">'
        '<col style="width:13%"><col style="width:13%"></colgroup>'
        "<tr><th>workload</th><th>status</th><th>item</th>"
        "<th>code</th><th>message</th><th>session</th><th>Graph request id</th></tr>"
        f"{rows}</table>"
    )


def _sessions(record: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{escape(s['workload'])}</td><td class='id'>{escape(s['restore_session_id'])}"
        f"</td><td class='n'>{len(s['names'])}</td><td>{escape(s['created'])}</td>"
        f"<td class='id'>{escape(s['request_id'])}</td></tr>"
        for s in record["sessions"]
    )
    return (
        '<table id="sessions"><tr><th>workload</th><th>session</th><th>names</th>'
        f"<th>created</th><th>request id</th></tr>{rows}</table>"
    )
