"""`restorectl plan`: what `restorectl restore --csv` would do on the bad day, with
nothing created.

Each workload's rows are checked as the restore would send them: every bulk addition
request it would make goes to the gateway with validate_only (validation and the
caller's policy, nothing made), so the rows the policy refuses are named with its
reason. Then each row is resolved: its protection unit from a units CSV (the gateway
has no lookup of units by e-mail or site URL), and the unit's latest restore point at
or before the point in time through the gateway's SearchRestorePoints. Last, the Graph
calls and sessions the restore will take, and the time that needs (`Model`)."""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import grpc

from graphrestore import bulk, restore_flow, whole_day
from graphrestore.restore_flow import RestoreInputError
from graphrestore.v1 import restore_session_pb2 as pb

# Graph's documented limit of sessions active at once in a tenant.
ACTIVE_SESSIONS = 25
# Units per SearchRestorePoints call (the gateway takes 10,000), and per Graph search
# (the gateway asks Graph 20 at a time).
UNITS_PER_SEARCH = 10_000
UNITS_PER_GRAPH_SEARCH = 20
# Reads of a session until restore has its pace: from 1 s, 1.5 times longer each, up to
# whole_day.POLL_MAX_S (about 7 reads to get there); the bound taken is a read every
# POLL_MAX_S after them (once the pace is known, restore reads far less).
BACKOFF_READS = 7
ARTIFACTS_PER_PAGE = 1000
NOT_PROTECTED, NO_POINT = "not_protected", "no_point"


@dataclass(frozen=True)
class Model:
    """What the estimate assumes. No limit is published for Graph's backup API, nor a
    restore duration: the defaults are the gateway's default budget (100 calls/s) and
    the emulator's session (30 s activating, 5 min restoring); a past run's report shows
    the real ones."""

    graph_calls_per_minute: float = 6000.0
    session_minutes: float = 5.5
    active_sessions: int = ACTIVE_SESSIONS


@dataclass
class WorkloadPlan:
    """One workload's rows as the plan found them."""

    workload: str
    rows: int
    # name, protection_unit_id, restore_point_id, restore_point_date_time
    resolves: list[dict[str, str]] = field(default_factory=list)
    # name, kind (NOT_PROTECTED or NO_POINT), reason
    unresolved: list[dict[str, str]] = field(default_factory=list)
    # name, code, reason
    refused: list[dict[str, str]] = field(default_factory=list)
    sessions: int = 0
    # Bulk requests Graph will refuse while restore halves the names (see _halving).
    refused_bulk_requests: int = 0
    graph_calls: int = 0


def _key(name: str) -> str:
    return name.strip().rstrip("/").lower()


def read_units(path: str) -> dict[tuple[str, str], str]:
    """(workload, e-mail or site URL) -> protection unit id, from a CSV of
    protection_unit_id with email or site_url, and a workload column where it names
    mailboxes (without one, an email row is a drive, a site_url row a site)."""
    units: dict[tuple[str, str], str] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if "protection_unit_id" not in (reader.fieldnames or ()):
            raise RestoreInputError(
                f"{path}: the header needs protection_unit_id (give --units: the gateway "
                "cannot look up protection units by e-mail or site URL)"
            )
        for row in reader:
            unit = (row.get("protection_unit_id") or "").strip()
            site = (row.get("site_url") or "").strip()
            workload = (row.get("workload") or "").strip().lower()
            workload = workload or ("sharepoint" if site else "onedrive")
            name = site if workload == "sharepoint" else (row.get("email") or "")
            if unit and name.strip():
                units[(workload, _key(name))] = unit
    return units


def make_plan(
    channel: grpc.Channel,
    rows: dict[str, list[str]],
    units: dict[tuple[str, str], str],
    units_file: str,
    point_in_time: datetime,
    destination: pb.DestinationType,
    timeout: float,
    model: Model,
) -> list[WorkloadPlan]:
    """Each workload's plan (whole_day.read_rows's `rows`); nothing is created."""
    plans = []
    split = whole_day.sessions_per_workload({name: len(named) for name, named in rows.items()})
    for name, named in rows.items():
        workload = bulk.WORKLOADS[name]
        stub = workload.stub(channel)
        plan = WorkloadPlan(name, len(named))
        size = whole_day.share(len(named), split[name])
        allowed = _allowed(workload, stub, named, size, plan, point_in_time, destination, timeout)
        _resolve(stub, allowed, units, units_file, plan, point_in_time, timeout)
        _halving(workload, plan)
        plan.graph_calls = _restore_calls(plan, model.session_minutes)
        plans.append(plan)
    return plans


def _allowed(
    workload: bulk.Workload,
    stub: Any,
    names: list[str],
    size: int,
    plan: WorkloadPlan,
    point_in_time: datetime,
    destination: pb.DestinationType,
    timeout: float,
) -> list[str]:
    """The names the gateway takes in the bulk requests of `size` names the restore
    would send (whole_day.sessions_per_workload); the others in `plan.refused`.
    `plan.sessions`: the requests (sessions) that pass."""

    def validate(chunk: list[str]) -> list[str]:
        request = bulk.bulk_request(workload, chunk, point_in_time, destination, validate_only=True)
        workload.rpc(stub, "Create{noun}RestoreArtifactsBulkAdditionRequest")(
            request, timeout=timeout
        )
        return chunk

    allowed: list[str] = []
    for start in range(0, len(names), size):
        chunk = names[start : start + size]
        try:
            passed, refused = bulk.without_refused_names(validate, chunk, workload.names_field)
        except grpc.RpcError as error:
            passed, refused = [], _all_refused(error, chunk)
        plan.sessions += len(passed)
        allowed += [n for checked in passed for n in checked]
        plan.refused += [{"name": n, "code": code, "reason": why} for n, code, why, _ in refused]
    return allowed


def _all_refused(error: grpc.RpcError, names: list[str]) -> list[bulk.Refused]:
    """Every name, when the policy refused the call that named them; other failures
    are raised again."""
    if not isinstance(error, grpc.Call) or error.code() != grpc.StatusCode.PERMISSION_DENIED:
        raise error
    code = bulk.reason_of(error) or error.code().name
    return [(n, code, error.details() or "", "") for n in names]


def _resolve(
    stub: Any,
    names: list[str],
    units: dict[tuple[str, str], str],
    units_file: str,
    plan: WorkloadPlan,
    point_in_time: datetime,
    timeout: float,
) -> None:
    """Each name's unit and latest restore point, into `plan`."""
    unit_of = {n: units.get((plan.workload, _key(n)), "") for n in names}
    for name in names:
        if not unit_of[name]:
            reason = f"not protected or unknown: no protection unit for it in {units_file}"
            plan.unresolved.append({"name": name, "kind": NOT_PROTECTED, "reason": reason})
    wanted = list(dict.fromkeys(u for u in unit_of.values() if u))
    latest: dict[str, pb.RestorePoint] = {}
    for start in range(0, len(wanted), UNITS_PER_SEARCH):
        chunk = wanted[start : start + UNITS_PER_SEARCH]
        try:
            latest |= restore_flow.latest_points(stub, chunk, point_in_time, timeout)
        except grpc.RpcError as error:
            searched = set(chunk)
            refused = _all_refused(error, [n for n in names if unit_of[n] in searched])
            plan.refused += [
                {"name": n, "code": code, "reason": why} for n, code, why, _ in refused
            ]
            unit_of = {n: u for n, u in unit_of.items() if u not in searched}
    window_days = restore_flow.SEARCH_WINDOW.days
    for name in names:
        unit = unit_of.get(name, "")
        if not unit:
            continue
        point = latest.get(unit)
        if point is None:
            reason = f"no restore point in the {window_days} days up to {point_in_time.isoformat()}"
            plan.unresolved.append({"name": name, "kind": NO_POINT, "reason": reason})
            continue
        plan.resolves.append(
            {
                "name": name,
                "protection_unit_id": unit,
                "restore_point_id": point.id,
                "restore_point_date_time": point.protection_date_time.ToJsonString(),
            }
        )


def _halving(workload: bulk.Workload, plan: WorkloadPlan) -> None:
    """Graph refuses a whole bulk request for one e-mail address it protects nothing of
    (an unknown site it names in the request's error instead): restore halves the names
    until each such address stands alone, and every half that passes is a session of
    its own. `plan.sessions` becomes the sessions that makes; each address costs the
    refused requests down to it."""
    if workload.names_field == "site_web_urls":
        return
    unknown = sum(1 for u in plan.unresolved if u["kind"] == NOT_PROTECTED)
    sent = plan.rows - len(plan.refused)
    if not unknown or not plan.sessions:
        return
    levels = math.ceil(math.log2(max(sent / plan.sessions, 2)))
    affected = min(unknown, plan.sessions)
    plan.sessions += min(unknown * levels, sent - unknown) - affected
    plan.refused_bulk_requests = unknown * (levels + 1)


def _restore_calls(plan: WorkloadPlan, session_minutes: float) -> int:
    """Graph calls the restore takes: per session a create and its bulk request, an
    activate, its reads until it ends, the bulk request read back and the artifacts' pages;
    per bulk request refused, a create, the request and the delete of the empty draft."""
    if not plan.sessions:
        return 0
    polls = BACKOFF_READS + session_minutes * 60 / whole_day.POLL_MAX_S
    pages = math.ceil((plan.rows - len(plan.refused)) / plan.sessions / ARTIFACTS_PER_PAGE)
    per_session = 2 + 1 + polls + 1 + pages
    return int(plan.sessions * per_session + plan.refused_bulk_requests * 3)


def estimate(plans: list[WorkloadPlan], model: Model) -> dict[str, Any]:
    """The time the restore needs: the longer of its Graph calls at the tenant's budget
    and its sessions in waves of the active limit (calls and sessions overlap)."""
    sessions = sum(p.sessions for p in plans)
    calls = sum(p.graph_calls for p in plans)
    calls_minutes = calls / model.graph_calls_per_minute
    waves = math.ceil(sessions / model.active_sessions)
    sessions_minutes = waves * model.session_minutes
    return {
        "model": asdict(model),
        "sessions": sessions,
        "graph_calls": calls,
        "minutes_for_graph_calls": round(calls_minutes, 1),
        "waves_of_active_sessions": waves,
        "minutes_for_sessions": round(sessions_minutes, 1),
        "expected_minutes": round(max(calls_minutes, sessions_minutes), 1),
    }


def everything_resolves(plans: list[WorkloadPlan]) -> bool:
    return all(not p.unresolved and not p.refused for p in plans)


def lines(plans: list[WorkloadPlan], expected: dict[str, Any]) -> list[str]:
    """The plan for people: one line per workload, each row not restorable, the estimate."""
    out = []
    for p in plans:
        out.append(
            f"{p.workload:<10} {p.rows} rows: {len(p.resolves)} resolve, "
            f"{len(p.unresolved)} unresolved, {len(p.refused)} refused; "
            f"{p.sessions} session{'' if p.sessions == 1 else 's'}, "
            f"at most {p.graph_calls} Graph calls"
        )
    for p in plans:
        out += [f"REFUSED {p.workload} {r['name']}: {r['code']}: {r['reason']}" for r in p.refused]
        out += [f"UNRESOLVED {p.workload} {r['name']}: {r['reason']}" for r in p.unresolved]
    model = expected["model"]
    out.append(
        f"expected {expected['expected_minutes']} min: {expected['graph_calls']} Graph calls "
        f"at {model['graph_calls_per_minute']:g}/min take {expected['minutes_for_graph_calls']} "
        f"min; {expected['sessions']} sessions, at most {model['active_sessions']} active, "
        f"{model['session_minutes']:g} min each, take {expected['minutes_for_sessions']} min"
    )
    out.append("nothing was created")
    return out


def as_json(plans: list[WorkloadPlan], expected: dict[str, Any]) -> dict[str, Any]:
    return {
        "everything_resolves": everything_resolves(plans),
        "workloads": {p.workload: asdict(p) for p in plans},
        "estimate": expected,
        "created": [],
    }
