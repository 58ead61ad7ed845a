"""The pipeline's last step: the audit record a call owes. One per mutating call and per
denial; calls without valid credentials at most one a second, counting those left out;
calls turned away for a spent refused-call budget one per caller and 5 s, counted
(rpc/turned_away.py). A record lists the first few items a call named and counts the
rest: a few KB, whatever the request held."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from graphrestore.v1 import browse_session_pb2 as browse_pb

from graphrestore_gateway import metrics
from graphrestore_gateway.access.policy import PolicyError
from graphrestore_gateway.access.policy_source import PolicySource
from graphrestore_gateway.access.refusals import key_of
from graphrestore_gateway.exceptions import (
    MAX_QUOTED_CHARS,
    AuditUnavailable,
    Denied,
    InvalidRequest,
    Refusal,
    SessionNotFound,
    Unauthenticated,
    UnreconcilableCreate,
)
from graphrestore_gateway.records.audit_log import AuditLog
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.rpc.methods import Method
from graphrestore_gateway.rpc.turned_away import TurnedAway

UNAUTHENTICATED_EVERY_S = 1.0
# Refusals that are the policy's decision (audited as denials).
DENIALS = (Denied, SessionNotFound, Unauthenticated)
# The most items a record lists (items_not_listed counts the rest). Listing what a
# request may hold, 10,000 items, made records of 0.5 MB: 278 invalid requests wrote
# 140 MB of audit in 12 s, and every caller's calls waited on the event loop meanwhile.
MAX_LISTED_ITEMS = 10
# A refused policy edit's message names the file, the place and the problem.
MAX_POLICY_ERROR_CHARS = 1024
# The drafts an unreconcilable create could have made, named in its record.
MAX_CANDIDATES_LISTED = 20


class Auditor:
    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit
        self._turned_away = TurnedAway(audit)
        self._unauthenticated_since = 0.0
        self._left_out = 0

    def turned_away(self, call: Call) -> None:
        """Count a call turned away for a spent refused-call budget: its record is the
        one of its caller's (or peer's) that counts them."""
        self._turned_away.count(key_of(call.caller, call.peer), call)
        call.audited = True

    async def record(
        self,
        call: Call,
        method: Method,
        request: Any,
        response: Message | None,
        outcome: str,
        error: Exception | None,
    ) -> None:
        denied = isinstance(error, DENIALS)
        if denied:
            metrics.POLICY_DENIALS.labels(_reason(error)).inc()
        if not (method.mutating or denied):
            return
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "caller": call.caller,
            "peer": call.peer,
            "rpc": method.name,
            # Bounded: a refused request's id may be anything up to the message size.
            "request_id": str(getattr(request, "request_id", ""))[:MAX_QUOTED_CHARS],
            "decision": _decision(error),
            "reason": _reason(error) if denied else "",
            "outcome": outcome,
        }
        if getattr(request, "validate_only", False):
            record["validate_only"] = True  # checked only: nothing was made
        if isinstance(error, Unauthenticated):
            now = time.monotonic()
            if now - self._unauthenticated_since < UNAUTHENTICATED_EVERY_S:
                self._left_out += 1
                return
            self._unauthenticated_since = now
            record["unaudited_before"], self._left_out = self._left_out, 0
        else:
            session_id = call.restore_session_id or _session_of(response)
            record["restore_session_id"] = session_id[:MAX_QUOTED_CHARS]
            if isinstance(response, browse_pb.BrowseSession):
                record["browse_session_id"] = response.id[:MAX_QUOTED_CHARS]
            record["graph_request_ids"] = call.graph.request_ids
            record["artifacts"], not_listed = _artifacts(call, method, request)
            if not_listed:
                record["items_not_listed"] = not_listed
            if isinstance(error, UnreconcilableCreate):
                # For an operator to decide; the caller is never told which they are.
                record["reason"] = error.reason
                record["candidates"] = error.candidates[:MAX_CANDIDATES_LISTED]
                if error.claimed_by:
                    record["claimed_by"] = error.claimed_by[:MAX_CANDIDATES_LISTED]
        await self._audit.write(record)

    async def policy_reload(self, source: PolicySource, refused: PolicyError | None) -> None:
        """One record per edit of the policy file: in force, or refused (with where);
        either way the digest of the policy in force."""
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            # A call's fields too, empty, so that every record reads the same way.
            **dict.fromkeys(("caller", "peer", "rpc", "request_id", "restore_session_id"), ""),
            "graph_request_ids": [],
            "artifacts": [],
            "event": "policy_reload",
            "decision": "",
            "reason": "POLICY_EDIT_REFUSED" if refused else "",
            "outcome": "REFUSED" if refused else "IN_FORCE",
            "policy_file": str(source.path),
            "in_force_sha256": source.digest,
        }
        if refused is not None:
            record["error"] = str(refused)[:MAX_POLICY_ERROR_CHARS]
            record["line"], record["column"] = refused.line, refused.column
        with contextlib.suppress(AuditUnavailable):  # the log says why, and the edit is in it
            await self._audit.write(record)


def _decision(error: Exception | None) -> str:
    """Whether the policy denied the call, or it never got to decide (an invalid request),
    or it allowed it (whatever Graph then answered)."""
    if isinstance(error, DENIALS):
        return "denied"
    if isinstance(error, InvalidRequest):
        return "invalid"
    return "allowed"


def _reason(error: Exception | None) -> str:
    if isinstance(error, SessionNotFound):
        return error.audit_reason
    return error.reason if isinstance(error, Refusal) else ""


def _session_of(response: Message | None) -> str:
    """The session an answer names: a bulk request's session, or the session itself."""
    answer: Any = response  # typed Any: the answer is any of the service's messages
    if answer is None:
        return ""
    if "restore_session_id" in answer.DESCRIPTOR.fields_by_name:
        return str(answer.restore_session_id)
    if answer.DESCRIPTOR.name == "RestoreSession":
        return str(answer.id)
    return ""


def _artifacts(call: Call, method: Method, request: Any) -> tuple[list[dict[str, str]], int]:
    """The first MAX_LISTED_ITEMS items the call named, and how many more it named."""
    not_read = _items_beyond(request, cut=False)
    restores = call.restores
    if not_read:
        # Only what can be listed is read: a copy of the request cut to MAX_LISTED_ITEMS
        # items a list.
        copy = type(request)()
        copy.CopyFrom(request)
        _items_beyond(copy, cut=True)
        request, restores = copy, None
    if restores is None:
        # Cut, or refused before it was read as valid (or it adds nothing to restore).
        restores = method.restores(request)
    named = restores.audit() if restores is not None else []
    named += [{"artifact_id": i} for i in method.artifact_ids(request)]
    named += [{"protection_unit_id": u} for u in method.searched_units(request)]
    named += [{"browse_session_id": b} for b in method.browse_session_ids(request)]
    named += [{"restore_point_id": p} for p in method.browsed_restore_points(request)]
    named += [{"site_web_url": u} for u in method.site_web_urls(request)]
    listed = named[:MAX_LISTED_ITEMS]
    not_listed = not_read + len(named) - len(listed)
    return [{k: v[:MAX_QUOTED_CHARS] for k, v in item.items()} for item in listed], not_listed


def _items_beyond(message: Message, cut: bool) -> int:
    """How many items the lists of `message`, and of the messages it holds outside lists,
    hold beyond MAX_LISTED_ITEMS each; with `cut`, those items are deleted."""
    beyond = 0
    for field, value in message.ListFields():
        if field.is_repeated:
            beyond += max(0, len(value) - MAX_LISTED_ITEMS)
            if cut:
                del value[MAX_LISTED_ITEMS:]
        elif field.message_type is not None:
            beyond += _items_beyond(value, cut)
    return beyond
