"""restorectl: drive the graphrestore gateway from a shell (it never talks to Graph)."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from graphrestore import bulk, connection_check, items, plan, report, restore_flow, runs, whole_day
from graphrestore.channel import new_request_id, open_channel
from graphrestore.cli_options import (
    EXIT_ARTIFACTS_FAILED,
    EXIT_BAD_INPUT,
    EXIT_CODES,
    EXIT_RPC_FAILED,
    EXIT_UNREACHABLE,
    Parser,
    global_options,
    workload_option,
)
from graphrestore.errors import GatewayError
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2_grpc as sharepoint_grpc

DESTINATIONS = {"new": pb.DESTINATION_TYPE_NEW, "inPlace": pb.DESTINATION_TYPE_IN_PLACE}
# Commands on one workload's sessions or restore points (--workload).
SESSION_COMMANDS = ("create", "get", "list", "activate", "delete", "artifacts", "watch", "search")

# A stub of any workload's service (their shared RPCs take the same messages).
Stub = Any


def _parser(json_errors: bool = False) -> argparse.ArgumentParser:
    parser = Parser(
        json_errors=json_errors,
        prog="restorectl",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[global_options(given_only=False)],
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        parents = [global_options(given_only=True)]
        if name in SESSION_COMMANDS:
            parents.append(workload_option())
        sub = commands.add_parser(
            name,
            help=text,
            parents=parents,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.json_errors = json_errors
        return sub

    create = command("create", "create a draft restore session")
    create.add_argument(
        "--restore-point", action="append", required=True, metavar="ID", dest="restore_points"
    )
    create.add_argument("--destination", choices=sorted(DESTINATIONS), required=True)
    create.add_argument("--request-id", help="AIP-155 id; reuse it to retry safely")
    create.add_argument("--validate-only", action="store_true")

    for name, text in (
        ("get", "show a session"),
        ("activate", "start a draft session"),
        ("delete", "delete a draft session"),
        ("artifacts", "list a session's artifacts"),
        ("watch", "follow a session until it ends"),
    ):
        command(name, text).add_argument("session_id")
    command("list", "list restore sessions")

    search = command("search", "find restore points of protection units")
    search.add_argument("--protection-unit", action="append", required=True, dest="units")
    search.add_argument("--point-in-time", type=_moment, required=True, help="ISO 8601, UTC")

    restore = command("restore", "create, activate and follow one restore session to the end")
    restore.add_argument("--restore-point", action="append", default=[], dest="restore_points")
    restore.add_argument("--protection-unit", action="append", default=[], dest="units")
    restore.add_argument("--drive", action="append", default=[], metavar="EMAIL", dest="emails")
    restore.add_argument(
        "--csv",
        help="CSV naming drives in a restore_point_id, protection_unit_id, email or "
        "directory_object_id column; or, with a workload column (onedrive, exchange, "
        "sharepoint, or empty for all), users by email and sites by site_url, all restored "
        "in parallel",
    )
    restore.add_argument("--point-in-time", type=_moment, help="for protection units (ISO 8601)")
    restore.add_argument("--destination", choices=sorted(DESTINATIONS), required=True)
    restore.add_argument(
        "--runs-dir",
        type=Path,
        default=Path(os.environ.get("GRAPHRESTORE_RUNS_DIR") or runs.DEFAULT_RUNS_DIR),
        help="where the run record goes (default $GRAPHRESTORE_RUNS_DIR or "
        f"{runs.DEFAULT_RUNS_DIR}); `restorectl report` renders it",
    )

    planning = command(
        "plan", "what `restore --csv` would restore, refuse and take; creates nothing"
    )
    planning.add_argument("--csv", required=True, help="the CSV `restore --csv` would read")
    planning.add_argument("--point-in-time", type=_moment, required=True, help="ISO 8601, UTC")
    planning.add_argument("--destination", choices=sorted(DESTINATIONS), required=True)
    planning.add_argument(
        "--units",
        default=os.environ.get("GRAPHRESTORE_UNITS"),
        help="CSV of protection_unit_id with email or site_url (and workload); default "
        "$GRAPHRESTORE_UNITS, or --csv itself when it has a protection_unit_id column",
    )
    planning.add_argument(
        "--graph-budget",
        type=float,
        default=plan.Model.graph_calls_per_minute,
        metavar="CALLS_PER_MINUTE",
        help="Graph calls a minute the tenant takes (default: the gateway's default budget)",
    )
    planning.add_argument(
        "--session-minutes",
        type=float,
        default=plan.Model.session_minutes,
        help="how long one session restores (Graph publishes none; a past run's report shows it)",
    )

    reporting = command("report", "a run record for an auditor")
    reporting.add_argument("run", help="the run record `restore` wrote (it names it)")
    reporting.add_argument("--format", choices=sorted(REPORTS), default="html")
    reporting.add_argument("-o", "--output", type=Path, help="file to write (default stdout)")

    listing = command("ls", "list a folder of a drive or site as it was")
    _unit_arguments(listing)
    listing.add_argument("path", nargs="?", default="/", help="e.g. /Documents/Finance")
    items = command("restore-items", "restore files and folders as they were, into a new folder")
    _unit_arguments(items)
    items.add_argument("paths", nargs="+", metavar="PATH", help="e.g. /Documents/Finance")
    items.add_argument(
        "--destination",
        choices=["new"],
        default="new",
        help="items always go to a new folder (Graph has no in-place for them)",
    )
    completion = command("completion", "print a bash or zsh completion script")
    completion.add_argument("shell", choices=["bash", "zsh"])
    return parser


def _unit_arguments(command: argparse.ArgumentParser) -> None:
    whose = command.add_mutually_exclusive_group(required=True)
    whose.add_argument("--user", metavar="EMAIL", help="the user's OneDrive")
    whose.add_argument("--site", metavar="URL", help="a SharePoint site")
    whose.add_argument("--drive-unit", metavar="ID", help="a drive protection unit")
    whose.add_argument("--site-unit", metavar="ID", help="a site protection unit")
    command.add_argument(
        "--units",
        default=os.environ.get("GRAPHRESTORE_UNITS"),
        help="CSV of protection_unit_id with email or site_url: needed for --user, and "
        "used for --site instead of the gateway's lookup (default $GRAPHRESTORE_UNITS)",
    )
    command.add_argument("--at", type=_moment, required=True, help="ISO 8601 time, UTC")


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _print(message: Message, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        print(json_format.MessageToJson(message, preserving_proto_field_name=True, indent=None))
    else:
        human()


def _print_session(session: pb.RestoreSession, as_json: bool, request_id: str = "") -> None:
    def human() -> None:
        counts = session.restore_session_artifact_count
        print(f"session   {session.id or '(not created: validate only)'}")
        if request_id:
            print(f"request   {request_id}")
        print(f"status    {pb.RestoreSessionStatus.Name(session.status)}")
        print(f"job type  {pb.RestoreJobType.Name(session.restore_job_type)}")
        print(
            f"artifacts total={counts.total} completed={counts.completed} "
            f"in_progress={counts.in_progress} failed={counts.failed}"
        )
        if session.HasField("created_date_time"):
            print(f"created   {session.created_date_time.ToJsonString()}")

    _print(session, as_json, human)


def _session_line(session: pb.RestoreSession) -> None:
    status = pb.RestoreSessionStatus.Name(session.status)
    print(f"{session.id}  {status}  total={session.restore_session_artifact_count.total}")


def _artifact_line(artifact: Any) -> None:
    error = f"  {artifact.error.code}: {artifact.error.message}" if artifact.error.code else ""
    status = pb.ArtifactRestoreStatus.Name(artifact.status)
    print(f"{artifact.id}  {artifact.restore_point.id}  {status}{error}")


def _workload(args: argparse.Namespace) -> bulk.Workload:
    return bulk.WORKLOADS[getattr(args, "workload", "onedrive")]


def _create(stub: Stub, args: argparse.Namespace) -> int:
    request_id = args.request_id or new_request_id()
    workload = _workload(args)
    artifact = getattr(pb, f"{workload.noun}RestoreArtifact")
    artifacts = [
        artifact(
            restore_point=pb.RestorePoint(id=point),
            destination_type=DESTINATIONS[args.destination],
        )
        for point in args.restore_points
    ]
    session = pb.RestoreSession()
    getattr(session, workload.artifacts_field).extend(artifacts)
    request = service_pb.CreateRestoreSessionRequest(
        restore_session=session,
        request_id=request_id,
        validate_only=args.validate_only,
    )
    session = stub.CreateRestoreSession(request, timeout=args.timeout)
    _print_session(session, args.json, request_id)
    return 0


def _get(stub: Stub, args: argparse.Namespace) -> int:
    request = service_pb.GetRestoreSessionRequest(restore_session_id=args.session_id)
    _print_session(stub.GetRestoreSession(request, timeout=args.timeout), args.json)
    return 0


def _activate(stub: Stub, args: argparse.Namespace) -> int:
    session = restore_flow.activate_when_allowed(stub, args.session_id, args.timeout)
    _print_session(session, args.json)
    return 0


def _delete(stub: Stub, args: argparse.Namespace) -> int:
    stub.DeleteRestoreSession(
        service_pb.DeleteRestoreSessionRequest(
            restore_session_id=args.session_id, request_id=new_request_id()
        ),
        timeout=args.timeout,
    )
    print(json.dumps({"deleted": args.session_id}) if args.json else f"deleted {args.session_id}")
    return 0


def _list(stub: Stub, args: argparse.Namespace) -> int:
    def fetch(token: str) -> tuple[list[pb.RestoreSession], str]:
        page = stub.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=1000, page_token=token),
            timeout=args.timeout,
        )
        return list(page.restore_sessions), page.next_page_token

    for session in restore_flow.every_page(fetch):
        _print(session, args.json, functools.partial(_session_line, session))
    return 0


def _artifacts(stub: Stub, args: argparse.Namespace) -> int:
    workload = _workload(args)

    def fetch(token: str) -> tuple[list[Message], str]:
        page = workload.rpc(stub, "List{noun}RestoreArtifacts")(
            workload.message(
                "List{noun}RestoreArtifactsRequest",
                restore_session_id=args.session_id,
                page_size=1000,
                page_token=token,
            ),
            timeout=args.timeout,
        )
        return list(getattr(page, workload.artifacts_field)), page.next_page_token

    for artifact in restore_flow.every_page(fetch):
        _print(artifact, args.json, functools.partial(_artifact_line, artifact))
    return 0


def _search(stub: Stub, args: argparse.Namespace) -> int:
    points = restore_flow.search_points(stub, args.units, args.point_in_time, args.timeout)
    for unit, point in zip(args.units, points, strict=True):
        print(
            json.dumps({"protection_unit_id": unit, "restore_point_id": point})
            if args.json
            else f"{unit}  {point}"
        )
    return 0


def _follow(
    stub: Stub, session_id: str, as_json: bool, record: runs.RunRecord | None = None
) -> pb.RestoreSession:
    """Follow a session to its end, with progress on stderr unless the output is JSON:
    a bar redrawn in place on a terminal, elsewhere (a log, a pipe) one line per update."""
    started = time.monotonic()
    on_terminal = sys.stderr.isatty()

    def show(update: pb.RestoreSession) -> None:
        if record is not None:
            counts = update.restore_session_artifact_count
            record.progress("onedrive", update.id, counts.completed, counts.failed)
        if as_json:
            return
        line = restore_flow.progress_line(update, started)
        if on_terminal:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    final = restore_flow.follow(stub, session_id, show)
    if on_terminal and not as_json:
        print(file=sys.stderr)
    return final


def _watch(stub: Stub, args: argparse.Namespace) -> int:
    session = _follow(stub, args.session_id, args.json)
    _print_session(session, args.json)
    return 0


def _restore(channel: grpc.Channel, args: argparse.Namespace) -> int:
    targets = restore_flow.Targets(list(args.restore_points), list(args.units), list(args.emails))
    if args.csv:
        restore_flow.read_csv(args.csv, targets)
    named = bool(targets.protection_unit_ids) or targets.needs_bulk
    if named and args.point_in_time is None:
        raise restore_flow.RestoreInputError(
            "drives named without restore points need --point-in-time"
        )
    if named and targets.restore_point_ids:
        raise restore_flow.RestoreInputError("give restore points or named drives, not both")
    asked = [
        *targets.restore_point_ids,
        *targets.protection_unit_ids,
        *targets.emails,
        *targets.directory_object_ids,
    ]
    channel, record = _recorded(channel, args, {"onedrive": asked})
    stub = service_grpc.OneDriveRestoreServiceStub(channel)
    destination = DESTINATIONS[args.destination]
    if targets.needs_bulk:
        session_id = restore_flow.create_bulk_session(
            stub, targets, args.point_in_time, destination, args.timeout
        )
        record.session_made("onedrive", session_id, asked, "")
    else:
        if targets.protection_unit_ids:
            targets.restore_point_ids = restore_flow.search_points(
                stub, targets.protection_unit_ids, args.point_in_time, args.timeout
            )
        if not targets.restore_point_ids:
            raise restore_flow.RestoreInputError("nothing to restore: name drives or give --csv")
        session_id = restore_flow.create_session(
            stub, targets.restore_point_ids, destination, args.timeout
        ).id
        record.session_made("onedrive", session_id, targets.restore_point_ids, "")
    session = restore_flow.activate_when_allowed(stub, session_id, args.timeout)
    print(
        f"session {session.id}: {session.restore_session_artifact_count.total} drives",
        file=sys.stderr,
    )
    final = _follow(stub, session.id, args.json, record)
    every = list(restore_flow.all_artifacts(stub, session.id, args.timeout))
    record.items([whole_day.artifact_result("onedrive", session.id, a) for a in every])
    failed = [a for a in every if a.status == pb.ARTIFACT_RESTORE_STATUS_FAILED]
    counts = final.restore_session_artifact_count
    status = pb.RestoreSessionStatus.Name(final.status)
    if args.json:
        print(
            json.dumps(
                {
                    "restore_session_id": session.id,
                    "status": status,
                    "total": counts.total,
                    "completed": counts.completed,
                    "failed": [
                        {
                            "restore_point_id": a.restore_point.id,
                            "artifact_id": a.id,
                            "code": a.error.code,
                            "message": a.error.message,
                        }
                        for a in failed
                    ],
                }
            )
        )
    else:
        print(
            f"session {session.id} {status}: "
            f"{counts.completed} of {counts.total} restored, {len(failed)} failed"
        )
        for artifact in failed:
            print(
                f"FAILED restore point {artifact.restore_point.id}: "
                f"{artifact.error.code}: {artifact.error.message}"
            )
    everything_restored = not failed and final.status == pb.RESTORE_SESSION_STATUS_COMPLETED
    record.finish("everything restored" if everything_restored else "not everything restored")
    print(f"run record {record.path}", file=sys.stderr)
    return 0 if everything_restored else EXIT_ARTIFACTS_FAILED


def _restore_whole_day(channel: grpc.Channel, args: argparse.Namespace) -> int:
    """A CSV with a `workload` column: drives, mailboxes and sites, in parallel."""
    if args.restore_points or args.units or args.emails:
        raise restore_flow.RestoreInputError("a CSV with a workload column names everything")
    if args.point_in_time is None:
        raise restore_flow.RestoreInputError("a CSV with a workload column needs --point-in-time")
    names = whole_day.read_rows(args.csv)
    channel, record = _recorded(channel, args, names)
    progress = whole_day.restore_all(
        channel,
        names,
        args.point_in_time,
        DESTINATIONS[args.destination],
        args.timeout,
        show_progress=not args.json,
        record=record,
    )
    everything_restored = whole_day.everything_restored(progress)
    record.finish("everything restored" if everything_restored else "not everything restored")
    print(f"run record {record.path}", file=sys.stderr)
    if args.json:
        print(json.dumps(whole_day.as_json(progress)))
    else:
        print("\n".join(whole_day.summary(progress)))
    return 0 if everything_restored else EXIT_ARTIFACTS_FAILED


def _recorded(
    channel: grpc.Channel, args: argparse.Namespace, rows: dict[str, list[str]]
) -> tuple[grpc.Channel, runs.RunRecord]:
    """A run record for this restore, and the channel that tells it what answers say."""
    record = runs.RunRecord(
        args.runs_dir.expanduser(),
        {
            "address": args.address,
            "csv": args.csv or "",
            "point_in_time": args.point_in_time.isoformat() if args.point_in_time else "",
            "destination": args.destination,
            "rows": rows,
        },
    )
    return grpc.intercept_channel(channel, runs.Witness(record)), record


def _plan(channel: grpc.Channel, args: argparse.Namespace) -> int:
    rows = whole_day.read_rows(args.csv)
    units_file = args.units or args.csv
    model = plan.Model(args.graph_budget, args.session_minutes)
    plans = plan.make_plan(
        channel,
        rows,
        plan.read_units(units_file),
        units_file,
        args.point_in_time,
        DESTINATIONS[args.destination],
        args.timeout,
        model,
    )
    expected = plan.estimate(plans, model)
    if args.json:
        print(json.dumps(plan.as_json(plans, expected)))
    else:
        print("\n".join(plan.lines(plans, expected)))
    return 0 if plan.everything_resolves(plans) else EXIT_ARTIFACTS_FAILED


REPORTS = {"csv": report.as_csv, "json": report.as_json, "html": report.as_html}


def _render_report(args: argparse.Namespace) -> int:
    rendered = REPORTS[args.format](runs.read(args.run))
    if args.output:
        args.output.write_text(rendered, encoding="utf-8")
    else:
        sys.stdout.write(rendered)
    return 0


COMMANDS: dict[str, Callable[[Stub, argparse.Namespace], int]] = {
    "create": _create,
    "get": _get,
    "list": _list,
    "activate": _activate,
    "delete": _delete,
    "artifacts": _artifacts,
    "search": _search,
    "watch": _watch,
}


def _browsed(channel: grpc.Channel, args: argparse.Namespace) -> items.Browsed:
    is_site = bool(args.site or args.site_unit)
    stub: Any = (
        sharepoint_grpc.SharePointRestoreServiceStub(channel)
        if is_site
        else service_grpc.OneDriveRestoreServiceStub(channel)
    )
    unit = (
        args.drive_unit
        or args.site_unit
        or items.unit_named(stub, args.user, args.site, args.units, args.timeout)
    )
    return items.browse_unit(stub, is_site, unit, args.at, args.timeout)


def _as_of(browsed: items.Browsed) -> str:
    return browsed.point.protection_date_time.ToJsonString()


def _ls(channel: grpc.Channel, args: argparse.Namespace) -> int:
    browsed = _browsed(channel, args)
    session_id = browsed.session.id
    where = items.resolve(browsed.stub, session_id, args.path, args.timeout)
    listed = (
        list(items.children(browsed.stub, session_id, args.timeout, where))
        if where.type in items.LOCATIONS
        else [where]
    )
    if args.json:
        print(
            json.dumps(
                {
                    "path": args.path,
                    "restore_point_id": browsed.point.id,
                    "restore_point_date_time": _as_of(browsed),
                    "browse_session_id": session_id,
                    "modified_times": "not given by Graph's browse",
                    "items": [
                        {
                            "name": i.name,
                            "kind": items.kind(i),
                            "size_in_bytes": i.size_in_bytes,
                            "items_count": i.items_count,
                            "item_key": i.item_key,
                            "web_url": i.web_url,
                        }
                        for i in listed
                    ],
                }
            )
        )
        return 0
    print(f"{args.path} as of {_as_of(browsed)} (restore point {browsed.point.id})")
    print("(Graph's browse gives no modified times)")
    print(f"total {len(listed)}")
    for i in listed:
        count = f"{i.items_count} items" if i.type in items.LOCATIONS else ""
        print(f"{items.kind(i):<8} {i.size_in_bytes:>12} {count:>10}  {i.name}")
    return 0


def _restore_items(channel: grpc.Channel, args: argparse.Namespace) -> int:
    browsed = _browsed(channel, args)
    found = items.resolve_all(browsed.stub, browsed.session.id, args.paths, args.timeout)
    keys = [item.item_key for item in found]
    if len(set(keys)) != len(keys):
        raise restore_flow.RestoreInputError("a path is named twice")
    created = items.create_items_session(browsed, found, args.timeout)
    session = restore_flow.activate_when_allowed(browsed.stub, created.id, args.timeout)
    print(f"session {session.id}: {len(found)} items as of {_as_of(browsed)}", file=sys.stderr)
    final = _follow(browsed.stub, session.id, args.json)
    by_key = {a.id: a for a in items.restored_items(browsed, session.id, args.timeout)}
    results = []
    for path, item in zip(args.paths, found, strict=True):
        done = by_key.get(item.item_key)
        status = pb.ArtifactRestoreStatus.Name(done.status) if done else "MISSING"
        results.append(
            {
                "path": path,
                "status": status,
                "restored_item_path": done.restored_item_path if done else "",
                "restored_item_web_url": done.restored_item_web_url if done else "",
                "error": f"{done.error.code}: {done.error.message}"
                if done and done.error.code
                else "",
            }
        )
    failed = [r for r in results if r["status"] != "ARTIFACT_RESTORE_STATUS_SUCCEEDED"]
    status = pb.RestoreSessionStatus.Name(final.status)
    if args.json:
        print(json.dumps({"restore_session_id": session.id, "status": status, "items": results}))
    else:
        print(f"session {session.id} {status}: {len(results) - len(failed)} of {len(results)}")
        for r in results:
            if r in failed:
                print(f"FAILED {r['path']}: {r['status']} {r['error']}".rstrip())
            else:
                name = r["path"].rstrip("/").rsplit("/", 1)[-1]
                print(
                    f"{r['path']} -> {r['restored_item_path']}/{name}  {r['restored_item_web_url']}"
                )
    return EXIT_ARTIFACTS_FAILED if failed else 0


ITEM_COMMANDS: dict[str, Callable[[grpc.Channel, argparse.Namespace], int]] = {
    "ls": _ls,
    "restore-items": _restore_items,
}


def _run(channel: grpc.Channel, args: argparse.Namespace) -> int:
    if args.command == "restore" and args.csv and whole_day.names_workloads(args.csv):
        return _restore_whole_day(channel, args)
    if args.command == "restore":
        return _restore(channel, args)
    if args.command == "plan":
        return _plan(channel, args)
    if args.command == "report":
        return _render_report(args)
    if args.command in ITEM_COMMANDS:
        return ITEM_COMMANDS[args.command](channel, args)
    return COMMANDS[args.command](_workload(args).stub(channel), args)


def _report(args: argparse.Namespace, lines: list[str], as_json: dict[str, Any]) -> None:
    """An error on stderr: lines for a person, or one JSON object under --json."""
    print(json.dumps(as_json) if args.json else "\n".join(lines), file=sys.stderr)


def _call_failed(args: argparse.Namespace, error: GatewayError) -> int:
    """Report a failed call; a failure to reach the gateway at all (no ErrorInfo: the
    gateway never answered) is explained by trying the connection again by hand."""
    unreachable = error.code() == grpc.StatusCode.UNAVAILABLE and not error.reason
    why = (
        connection_check.explain(
            args.address, ca_file=args.ca_file, cert_file=args.cert, key_file=args.key
        )
        if unreachable
        else None
    )
    lines = error.lines() + ([f"  why: {why}"] if why else [])
    _report(args, lines, {**error.as_json(), "explanation": why or ""})
    return EXIT_UNREACHABLE if unreachable else EXIT_RPC_FAILED


def _completion(parser: argparse.ArgumentParser, shell: str) -> int:
    try:
        import shtab
    except ImportError:
        print("restorectl: completion needs graphrestore-client[cli]", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(shtab.complete(parser, shell=shell))
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(json_errors="--json" in arguments)
    args = parser.parse_args(arguments)
    if args.command == "completion":
        sys.exit(_completion(parser, args.shell))
    try:
        if args.token_file:
            Path(args.token_file).read_text(encoding="utf-8")  # unreadable: say so now
        with open_channel(
            args.address,
            ca_file=args.ca_file,
            cert_file=args.cert,
            key_file=args.key,
            token_file=args.token_file,
        ) as channel:
            sys.exit(_run(channel, args))
    except grpc.RpcError as error:
        sys.exit(_call_failed(args, GatewayError.from_rpc_error(error)))
    except (restore_flow.RestoreInputError, OSError) as error:
        _report(args, [f"restorectl: {error}"], {"code": "BAD_INPUT", "message": str(error)})
        sys.exit(EXIT_BAD_INPUT)
    except RuntimeError as error:  # e.g. a browse session Graph could not create
        _report(args, [f"restorectl: {error}"], {"code": "FAILED", "message": str(error)})
        sys.exit(EXIT_RPC_FAILED)


if __name__ == "__main__":
    main()
