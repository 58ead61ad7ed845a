"""What one RPC did below the servicer, gathered for its audit record."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RpcTrace:
    # Graph's request-id of every Graph answer, in order.
    graph_request_ids: list[str] = field(default_factory=list)


CURRENT: ContextVar[RpcTrace | None] = ContextVar("rpc_trace", default=None)
# The authenticated caller of the RPC being served.
CALLER: ContextVar[str] = ContextVar("caller", default="anonymous")


def record_graph_request_id(request_id: str) -> None:
    trace = CURRENT.get()
    if trace is not None and request_id:
        trace.graph_request_ids.append(request_id)
