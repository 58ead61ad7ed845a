"""restorectl's options every command takes, its exit codes, and usage errors that
honour --json."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NoReturn

from graphrestore import bulk

EXIT_RPC_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ARTIFACTS_FAILED = 3
EXIT_UNREACHABLE = 4
EXIT_CODES = f"""exit codes:
  0  done (a restore: every item restored)
  1  the gateway refused or failed a call (--json: the error as JSON on stderr)
  {EXIT_BAD_INPUT}  bad arguments or input files
  {EXIT_ARTIFACTS_FAILED}  a restore ended with items not restored (each one named)
  {EXIT_UNREACHABLE}  the gateway could not be reached (network or TLS; the reason is named)
"""


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors, under --json, are one JSON object on stderr too."""

    def __init__(self, *args: Any, json_errors: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.json_errors = json_errors

    def error(self, message: str) -> NoReturn:
        if not self.json_errors:
            super().error(message)
        refusal = {"code": "BAD_INPUT", "message": message, "usage": self.format_usage().strip()}
        print(json.dumps(refusal), file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def global_options(*, given_only: bool) -> Parser:
    """The options every command takes, before or after its name. Under a command
    (given_only) they have no defaults, so they only override what was given before it."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if given_only else value

    options = Parser(add_help=False)
    options.add_argument(
        "--address",
        default=default(os.environ.get("GRAPHRESTORE_ADDRESS", "127.0.0.1:50051")),
        help="gateway HOST:PORT (default $GRAPHRESTORE_ADDRESS or 127.0.0.1:50051)",
    )
    options.add_argument(
        "--ca-file", default=default(None), help="CA that signed the gateway's certificate"
    )
    options.add_argument("--cert", default=default(None), help="client certificate (mTLS)")
    options.add_argument("--key", default=default(None), help="client key (mTLS)")
    options.add_argument(
        "--token-file",
        default=default(os.environ.get("GRAPHRESTORE_TOKEN_FILE")),
        help="file holding a bearer token (JWT) for a gateway in JWT mode, read again for "
        "every call (default $GRAPHRESTORE_TOKEN_FILE)",
    )
    options.add_argument("--timeout", type=float, default=default(120.0), help="seconds per call")
    options.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print JSON for scripts; errors as one JSON object on stderr",
    )
    return options


def workload_option() -> Parser:
    option = Parser(add_help=False)
    option.add_argument(
        "--workload",
        choices=sorted(bulk.WORKLOADS),
        default="onedrive",
        help="whose sessions: drives, sites or mailboxes (default onedrive)",
    )
    return option
