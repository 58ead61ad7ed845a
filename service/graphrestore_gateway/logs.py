"""JSON log lines on stderr: one object a line, extra fields under `fields`."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    """`context_fields` gives what every line carries while one RPC is served (rpc,
    caller, request_id), so Graph calls can be traced to the RPC that made them."""

    def __init__(self, context_fields: Callable[[], dict[str, Any]]) -> None:
        super().__init__()
        self._context_fields = context_fields

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(self._context_fields())
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(context_fields: Callable[[], dict[str, Any]] = dict) -> None:
    # Lines carry none of these: skip collecting them for every record (the logging
    # HOWTO's "Optimization" section). The caller's frame costs a stack walk per line.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(context_fields))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # msal and httpx log request details at INFO/DEBUG; keep only their warnings.
    for noisy in ("msal", "httpx", "httpcore", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
