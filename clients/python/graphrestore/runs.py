"""Run records: what one `restorectl restore` was asked, which sessions it made, what
became of every item, who the gateway took the caller for and every wait it was told
to take. One JSON file per run, written again (to a temporary file, then renamed) at
each step, so a crash loses nothing already done; `restorectl report` renders it."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import grpc
from google.rpc import error_details_pb2

from graphrestore.channel import error_details

# The gateway names the caller it identified in every answer that succeeds (a trailer,
# percent-encoded).
CALLER_HEADER = "graphrestore-caller"
DEFAULT_RUNS_DIR = Path("~/.local/state/graphrestore/runs")
# Progress alone is written at most this often; everything else at once.
PROGRESS_SAVE_S = 1.0
# Item statuses, as the record and the report name them.
RESTORED, FAILED, REFUSED, UNRESOLVED = "restored", "failed", "refused", "unresolved"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RunRecord:
    """One run's record file; safe to use from the threads of a run."""

    def __init__(self, folder: Path, asked: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        self.path = folder / f"{run_id}.json"
        self._lock = threading.Lock()
        self._saved_at = 0.0
        # Completed and failed artifacts per session, summed per workload in samples.
        self._counts: dict[str, dict[str, tuple[int, int]]] = {}
        self.data: dict[str, Any] = {
            "run_id": run_id,
            "caller": "",
            "started": now(),
            "ended": "",
            "asked": asked,
            "sessions": [],
            "items": [],
            "waits": [],
            "progress": [],
            "result": "",
        }
        self._save()

    def caller_seen(self, caller: str) -> None:
        with self._lock:
            if not self.data["caller"]:
                self.data["caller"] = caller
                self._save()

    def session_made(
        self, workload: str, session_id: str, names: list[str], request_id: str, bulk_id: str = ""
    ) -> None:
        with self._lock:
            self.data["sessions"].append(
                {
                    "workload": workload,
                    "restore_session_id": session_id,
                    "bulk_addition_request_id": bulk_id,
                    "request_id": request_id,
                    "names": names,
                    "created": now(),
                }
            )
            self._save()

    def progress(self, workload: str, session_id: str, completed: int, failed: int) -> None:
        """A session's counts changed: one sample of its workload's sums."""
        with self._lock:
            sessions = self._counts.setdefault(workload, {})
            if sessions.get(session_id) == (completed, failed):
                return
            sessions[session_id] = (completed, failed)
            self.data["progress"].append(
                {
                    "at": now(),
                    "workload": workload,
                    "completed": sum(c for c, _ in sessions.values()),
                    "failed": sum(f for _, f in sessions.values()),
                }
            )
            if time.monotonic() - self._saved_at >= PROGRESS_SAVE_S:
                self._save()

    def items(self, found: list[dict[str, Any]]) -> None:
        """Results of items: each with workload, status, item and what else is known
        (restore_point_id, restore_session_id, code, message, request ids, completed)."""
        with self._lock:
            self.data["items"] += found
            self._save()

    def waited(self, seconds: float, method: str, reason: str) -> None:
        with self._lock:
            self.data["waits"].append(
                {"at": now(), "seconds": seconds, "method": method, "reason": reason}
            )
            self._save()

    def finish(self, result: str) -> None:
        with self._lock:
            self.data["ended"] = now()
            self.data["result"] = result
            self._save()

    def _save(self) -> None:
        partial = self.path.with_suffix(".json.partial")
        with partial.open("w", encoding="utf-8") as handle:
            json.dump(self.data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, self.path)
        self._saved_at = time.monotonic()


def read(path: str | Path) -> dict[str, Any]:
    """A run record as written."""
    with open(path, encoding="utf-8") as handle:
        record: dict[str, Any] = json.load(handle)
    return record


class Witness(grpc.UnaryUnaryClientInterceptor):
    """What every answer tells the record: the caller the gateway saw, and each wait
    (RetryInfo on RESOURCE_EXHAUSTED or UNAVAILABLE) the gateway asked for."""

    def __init__(self, record: RunRecord) -> None:
        self._record = record

    def intercept_unary_unary(
        self, continuation: Callable[[Any, Any], Any], details: Any, request: Any
    ) -> Any:
        outcome = continuation(details, request)
        for key, value in outcome.trailing_metadata() or ():
            if key == CALLER_HEADER:
                self._record.caller_seen(unquote(str(value)))
        if outcome.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE):
            delay_s, reason = _retry(outcome)
            if delay_s is not None:
                self._record.waited(delay_s, str(details.method).rsplit("/", 1)[-1], reason)
        return outcome


def _retry(error: Any) -> tuple[float | None, str]:
    delay_s, reason = None, ""
    for detail in error_details(error):
        retry, info = error_details_pb2.RetryInfo(), error_details_pb2.ErrorInfo()
        if detail.Unpack(retry):
            delay_s = float(retry.retry_delay.ToTimedelta().total_seconds())
        elif detail.Unpack(info):
            reason = str(info.reason)
    return delay_s, reason


def graph_request_id(error: grpc.RpcError) -> str:
    """Graph's request-id of a failed call, when Graph answered it."""
    for detail in error_details(error):
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.metadata.get("request_id", ""))
    return ""
