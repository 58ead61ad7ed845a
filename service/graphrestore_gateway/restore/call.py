"""The per-call value: who is calling, which RPC, under which deadline, and what Graph
request ids it caused. Kept in exactly one context variable, for the log lines."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from graphrestore_gateway.graph.client import GraphTrail
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.records.holdings import Holdings
from graphrestore_gateway.restore.restores import Restores


@dataclass
class Call:
    method: str
    peer: str
    deadline: Deadline
    started: float = field(default_factory=time.monotonic)
    # Set by the pipeline as the call passes its steps.
    caller: str = ""
    request_id: str = ""
    # Whether the caller's rule shows it every session, or only those it created.
    sees_every_session: bool = False
    # Whether the caller's rule limits destinations or protection units: a session whose
    # contents cannot be known is then not the caller's to change.
    bound_by_contents: bool = False
    # Whether the caller's rule limits protection units (it lists only what it made).
    bound_to_units: bool = False
    # The protection units the caller's rule limits it to (None: any).
    own_units: frozenset[str] | None = None
    # The Graph requests it made (for its log line and audit record).
    graph: GraphTrail = field(default_factory=GraphTrail)
    # What the request adds to restore, once it is valid (for the policy and the audit).
    restores: Restores | None = None
    # The restore points of what it browses or restores items from (browse sessions'
    # points, as the gateway recorded them; "" for one it did not make), once admitted.
    browsed_points: list[str] = field(default_factory=list)
    # The session the call made or acted on, once known.
    restore_session_id: str = ""
    # The key of its request record ("" without a request_id).
    request_key: str = ""
    # When an interrupted attempt with the same request_id began: what it did in Graph
    # must be found before anything is done again.
    reconcile_since: float | None = None
    # The session that attempt made, as its request record names it ("" if none).
    reconciled_session_id: str = ""
    # Whether the call's audit record is written already (beside its answer's record).
    audited: bool = False
    # Ownership keys ("session:<id>", "bulk:<id>") of what the call made in Graph:
    # recorded with its answer.
    made: list[str] = field(default_factory=list)
    # What the sessions it made hold, where Graph will not list it: recorded with them.
    holdings: dict[str, Holdings] = field(default_factory=dict)

    def elapsed_ms(self) -> float:
        return round((time.monotonic() - self.started) * 1000, 1)

    def log_fields(self) -> dict[str, Any]:
        fields = {"rpc": self.method, "caller": self.caller}
        if self.request_id:
            fields["request_id"] = self.request_id
        if self.restore_session_id:
            fields["restore_session_id"] = self.restore_session_id
        return fields


CURRENT: ContextVar[Call | None] = ContextVar("call", default=None)


def current_log_fields() -> dict[str, Any]:
    """The fields of the call being served, for every log line it writes."""
    call = CURRENT.get()
    return call.log_fields() if call is not None else {}
