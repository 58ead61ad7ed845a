"""restorectl: drive the graphrestore gateway from a shell (it never talks to Graph)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import grpc
from google.protobuf import json_format

from graphrestore.channel import describe_error, new_request_id, open_channel
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb

DESTINATIONS = {"new": pb.DESTINATION_TYPE_NEW, "inPlace": pb.DESTINATION_TYPE_IN_PLACE}
EXIT_RPC_FAILED = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="restorectl", description=__doc__)
    parser.add_argument(
        "--address",
        default=os.environ.get("GRAPHRESTORE_ADDRESS", "127.0.0.1:50051"),
        help="gateway HOST:PORT (default $GRAPHRESTORE_ADDRESS or 127.0.0.1:50051)",
    )
    parser.add_argument("--ca-file", help="CA that signed the gateway's certificate")
    parser.add_argument("--cert", help="client certificate (mTLS)")
    parser.add_argument("--key", help="client key (mTLS)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per call")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create", help="create a draft restore session")
    create.add_argument(
        "--restore-point", action="append", required=True, metavar="ID", dest="restore_points"
    )
    create.add_argument("--destination", choices=sorted(DESTINATIONS), required=True)
    create.add_argument("--request-id", help="AIP-155 id; reuse it to retry safely")
    create.add_argument("--validate-only", action="store_true")
    return parser


def _print_session(session: pb.RestoreSession, request_id: str, as_json: bool) -> None:
    if as_json:
        print(json_format.MessageToJson(session, preserving_proto_field_name=True, indent=None))
        return
    counts = session.restore_session_artifact_count
    print(f"session   {session.id or '(not created: validate only)'}")
    print(f"request   {request_id}")
    print(f"status    {pb.RestoreSessionStatus.Name(session.status)}")
    print(f"job type  {pb.RestoreJobType.Name(session.restore_job_type)}")
    print(
        f"artifacts total={counts.total} completed={counts.completed} "
        f"in_progress={counts.in_progress} failed={counts.failed}"
    )
    if session.HasField("created_date_time"):
        print(f"created   {session.created_date_time.ToJsonString()}")


def _create(stub: service_grpc.OneDriveRestoreServiceStub, args: argparse.Namespace) -> None:
    request_id = args.request_id or new_request_id()
    request = service_pb.CreateRestoreSessionRequest(
        restore_session=pb.RestoreSession(
            drive_restore_artifacts=[
                pb.DriveRestoreArtifact(
                    restore_point=pb.RestorePoint(id=point),
                    destination_type=DESTINATIONS[args.destination],
                )
                for point in args.restore_points
            ]
        ),
        request_id=request_id,
        validate_only=args.validate_only,
    )
    session = stub.CreateRestoreSession(request, timeout=args.timeout)
    _print_session(session, request_id, args.json)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    with open_channel(
        args.address, ca_file=args.ca_file, cert_file=args.cert, key_file=args.key
    ) as channel:
        stub = service_grpc.OneDriveRestoreServiceStub(channel)
        try:
            {"create": _create}[args.command](stub, args)
        except grpc.RpcError as error:
            for line in describe_error(error):
                print(line, file=sys.stderr)
            sys.exit(EXIT_RPC_FAILED)


if __name__ == "__main__":
    main()
