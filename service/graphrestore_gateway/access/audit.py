"""The audit trail: one JSON record per mutating RPC and per denial, appended and fsync'd."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any


class AuditLog:
    """Appends records to a file (flushed and fsync'd each time), or to stdout."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()

    async def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, default=str, separators=(",", ":")) + "\n"
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        with self._lock:
            if self._path is None:
                sys.stdout.write(line)
                sys.stdout.flush()
                return
            with open(self._path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
