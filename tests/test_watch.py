"""The shared watch poll is the gateway's own: its Graph calls are charged to the
gateway's share of the budget, whichever caller opened the first stream."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from graphrestore_gateway.graph.client import GATEWAY_PAYER, GraphClient, GraphHttp, GraphTrail
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.restore.watch import SessionWatcher


class Payers:
    """Stands in for the budget and the token: records who each Graph call is charged to."""

    def __init__(self) -> None:
        self.charged: list[str] = []

    async def take(self, deadline: Deadline, caller: str) -> None:
        self.charged.append(caller)

    async def pause(self, seconds: float) -> None: ...

    async def token(self, deadline: Deadline) -> str:
        return "token"


def test_the_poll_is_charged_to_the_gateway_not_to_the_first_watcher() -> None:
    def graph_answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "s-1", "status": "completed"})

    payers = Payers()

    async def scenario() -> list[dict[str, Any]]:
        root = GraphClient(
            GraphHttp(httpx.MockTransport(graph_answer), "https://graph.test"),
            payers,  # type: ignore[arg-type]
            payers,  # type: ignore[arg-type]
        )
        caller_view = root.on_behalf_of("spiffe://corp/ns/a/sa/first-watcher", GraphTrail())
        await caller_view.get_restore_session("s-1", Deadline.after(5))
        return [body async for body in SessionWatcher(root).watch("s-1")]

    bodies = asyncio.run(scenario())
    assert [b["status"] for b in bodies] == ["completed"]
    assert payers.charged == ["spiffe://corp/ns/a/sa/first-watcher", GATEWAY_PAYER]
