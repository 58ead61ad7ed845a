"""The audit trail: one JSON record per mutating RPC and per denial, appended and
fsync'd before the call's answer leaves. Records of concurrent calls share one write and
one fsync (group commit)."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from graphrestore_gateway.exceptions import AuditUnavailable
from graphrestore_gateway.group_commit import GroupCommit, on_writer_thread

log = logging.getLogger(__name__)


class AuditLog:
    """Appends records to a file (flushed and fsync'd), or to stdout."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._group: GroupCommit[bytes, None] = GroupCommit(on_writer_thread(self._append))

    async def write(self, record: dict[str, Any]) -> None:
        """AuditUnavailable if the record could not be made durable (the operator's log
        says why)."""
        line = json.dumps(record, default=str, separators=(",", ":")) + "\n"
        try:
            await self._group.submit(line.encode())
        except OSError as error:
            log.error("audit record not written", extra={"fields": {"error": str(error)}})
            raise AuditUnavailable() from error

    def _append(self, lines: list[bytes]) -> list[BaseException | None]:
        if self._path is None:
            sys.stdout.buffer.write(b"".join(lines))
            sys.stdout.buffer.flush()
            return [None] * len(lines)
        # Opened for every batch: a file rotated away meanwhile is not written to.
        handle = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            unwritten = memoryview(b"".join(lines))
            while unwritten:
                unwritten = unwritten[os.write(handle, unwritten) :]
            os.fsync(handle)
        finally:
            os.close(handle)
        return [None] * len(lines)
