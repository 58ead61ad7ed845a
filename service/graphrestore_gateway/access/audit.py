"""The audit trail: one JSON record per mutating RPC and per denial, appended and
fsync'd before the call's answer leaves. Records of concurrent calls share one write and
one fsync (group commit)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from graphrestore_gateway.group_commit import GroupCommit


class AuditLog:
    """Appends records to a file (flushed and fsync'd), or to stdout."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._group: GroupCommit[str, None] = GroupCommit(self._append)

    async def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, default=str, separators=(",", ":")) + "\n"
        await self._group.submit(line)

    def _append(self, lines: list[str]) -> list[BaseException | None]:
        if self._path is None:
            sys.stdout.write("".join(lines))
            sys.stdout.flush()
        else:
            with open(self._path, "a", encoding="utf-8") as handle:
                handle.write("".join(lines))
                handle.flush()
                os.fsync(handle.fileno())
        return [None] * len(lines)
