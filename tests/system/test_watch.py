"""The shared watch poll is the gateway's own: its Graph calls are charged to the
gateway's share of the budget, whichever caller opened the first stream. A stream lasts
only as long as the policy lets its caller watch."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore_gateway.graph.client import GATEWAY_PAYER, GraphClient, GraphHttp, GraphTrail
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.restore.watch import SessionWatcher
from helpers import create_request, error_info
from processes import Emulator, start_mtls_gateway


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


CREATOR = "spiffe://corp/ns/payroll/sa/backup-bot"
WATCHER = "spiffe://corp/ns/ir/sa/watcher"
WATCHER_POLICY = f"""
[[callers]]
id = "{CREATOR}"
methods = ["CreateRestoreSession"]
destination_types = ["new"]
max_artifacts = 10

[[callers]]
id = "{WATCHER}"
methods = ["WatchRestoreSession"]
sessions = "any"
"""


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ('methods = []\nsessions = "any"', "METHOD_NOT_ALLOWED"),
        ('methods = ["WatchRestoreSession"]\nsessions = "own"', "SESSION_NOT_VISIBLE"),
        ("", "UNKNOWN_CALLER"),
    ],
)
def test_a_watcher_the_policy_no_longer_allows_is_cut_off(
    emulator: Emulator, tmp_path: Path, edit: str, reason: str
) -> None:
    mtls = start_mtls_gateway(emulator.gateway_env(), tmp_path, WATCHER_POLICY)
    creator, watcher = (mtls.ca.issue(w.rsplit("/", 1)[1], "x", uri=w) for w in (CREATOR, WATCHER))
    try:
        creating, creates = mtls.stub(creator)
        with creating:
            session = creates.CreateRestoreSession(create_request("rp-watch-cut"), timeout=10)
        channel, stub = mtls.stub(watcher)
        with channel:
            # A draft: Graph has nothing new to say, so only the policy can end the stream.
            stream = stub.WatchRestoreSession(
                service_pb.WatchRestoreSessionRequest(restore_session_id=session.id), timeout=20
            )
            assert next(stream).id == session.id
            rule = 'methods = ["WatchRestoreSession"]\nsessions = "any"'
            edited = WATCHER_POLICY.replace(rule, edit)
            if not edit:
                edited = edited[: edited.rindex("[[callers]]")]
            mtls.policy_file.write_text(edited)
            with pytest.raises(grpc.RpcError) as failure:
                next(stream)  # no other call: the reload finds the edit by itself
        assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_info(failure.value).reason == reason
        audit = [json.loads(line) for line in mtls.audit_file.read_text().splitlines()]
        [denial] = [r for r in audit if r["rpc"] == "WatchRestoreSession"]
        assert (denial["decision"], denial["reason"]) == ("denied", reason)
        assert (denial["caller"], denial["restore_session_id"]) == (WATCHER, session.id)
    finally:
        assert mtls.gateway.stop() == 0
