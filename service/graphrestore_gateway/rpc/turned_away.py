"""The audit of calls turned away for a spent refused-call budget (access/refusals.py):
not one record per call, which a flood would make a flood of records, but one record per
caller (or peer address) and COALESCE_S, counting them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from graphrestore_gateway.access.refusals import Key
from graphrestore_gateway.exceptions import AuditUnavailable, TooManyRefusals
from graphrestore_gateway.records.audit_log import AuditLog
from graphrestore_gateway.restore.call import Call

COALESCE_S = 5.0

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class _Count:
    caller: str
    peer: str
    since: str = field(default_factory=_now)
    rpcs: Counter[str] = field(default_factory=Counter)


class TurnedAway:
    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit
        self._counts: dict[Key, _Count] = {}
        # Writes in flight, held so the loop's weak reference is not their only one.
        self._writes: set[asyncio.Task[None]] = set()

    def count(self, key: Key, call: Call) -> None:
        """One more call of `key` turned away: written with the others COALESCE_S after
        the first."""
        counted = self._counts.get(key)
        if counted is None:
            counted = self._counts[key] = _Count(call.caller, call.peer)
            asyncio.get_running_loop().call_later(COALESCE_S, self._write, key)
        counted.rpcs[call.method] += 1

    def _write(self, key: Key) -> None:
        counted = self._counts.pop(key)
        record: dict[str, object] = {
            "time": _now(),
            "caller": counted.caller,
            "peer": counted.peer,
            "rpc": ",".join(sorted(counted.rpcs)),
            # A call's fields too, empty (none was read), so every record reads the same.
            **dict.fromkeys(("request_id", "restore_session_id"), ""),
            "graph_request_ids": [],
            "artifacts": [],
            "decision": "denied",
            "reason": TooManyRefusals.reason,
            "outcome": "RESOURCE_EXHAUSTED",
            "refused_calls": sum(counted.rpcs.values()),
            "refused_since": counted.since,
        }
        log.warning(
            "calls turned away: the caller's refused-call budget is spent",
            extra={"fields": {k: record[k] for k in ("caller", "peer", "refused_calls")}},
        )
        write = asyncio.ensure_future(self._write_record(record))
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)

    async def _write_record(self, record: dict[str, object]) -> None:
        # Nobody waits for this answer: AuditLog has logged why the record is missing.
        with contextlib.suppress(AuditUnavailable):
            await self._audit.write(record)
