"""The call pipeline in-process: a crash anywhere in a call (the policy check, the
servicer) is answered INTERNAL without its details, and audited with that outcome."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore_gateway.access.callers import NoAuthentication
from graphrestore_gateway.access.policy_source import PolicySource
from graphrestore_gateway.access.refusals import RefusalBudget
from graphrestore_gateway.graph.client import GraphClient, GraphHttp
from graphrestore_gateway.records.audit_log import AuditLog
from graphrestore_gateway.records.exactly_once import ExactlyOnce
from graphrestore_gateway.records.sqlite_store import SqliteStore
from graphrestore_gateway.restore.drive_units import DriveDirectory
from graphrestore_gateway.restore.workloads import ONEDRIVE, WORKLOADS
from graphrestore_gateway.rpc.auditor import Auditor
from graphrestore_gateway.rpc.methods import METHODS
from graphrestore_gateway.rpc.pipeline import Pipeline
from graphrestore_gateway.rpc.status import status_of
from helpers import create_request


class CrashingServicer:
    """Every method fails the way a bug would."""

    workload = ONEDRIVE

    def __getattr__(self, name: str) -> Callable[..., Any]:
        async def crash(request: Any, call: Any) -> Any:
            raise RuntimeError(f"bug in {name}")

        return crash


class CrashingPolicy(PolicySource):
    def __init__(self) -> None:
        super().__init__(None)

    def current(self) -> Any:
        raise KeyError("bug in the policy check")


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_the_table_covers_every_rpc_of_each_service(workload: str) -> None:
    table = METHODS[workload]
    assert set(table) == set(WORKLOADS[workload].service.methods_by_name)
    # Each row is served by the one servicer method of its kind (13 RPCs, 13 methods).
    assert len({method.behavior for method in table.values()}) == len(table)


@pytest.mark.parametrize(
    ("policy", "where"), [(PolicySource(None), "servicer"), (CrashingPolicy(), "policy")]
)
def test_a_crash_is_internal_and_audited_with_that_outcome(
    tmp_path: Path, policy: PolicySource, where: str
) -> None:
    audit_file = tmp_path / "audit.jsonl"
    request = create_request("rp-crash")

    async def scenario() -> grpc.RpcError:
        store = SqliteStore(tmp_path / "requests.sqlite3")
        http = GraphHttp(httpx.AsyncHTTPTransport(), "https://graph.test")
        graph = GraphClient(http, tokens=None, budget=None)  # type: ignore[arg-type]
        pipeline = Pipeline(
            NoAuthentication(),
            policy,
            store,
            ExactlyOnce(store, status_of),
            Auditor(AuditLog(audit_file)),
            graph,
            DriveDirectory(),
            max_watches_per_caller=2,
            refusals=RefusalBudget(per_minute=120),
        )
        server = grpc.aio.server()
        pipeline.register(CrashingServicer(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = service_grpc.OneDriveRestoreServiceStub(channel)
                with pytest.raises(grpc.RpcError) as failure:
                    await stub.CreateRestoreSession(request, timeout=10)
                return failure.value  # type: ignore[return-value]
        finally:
            await server.stop(None)
            await store.close()

    error = asyncio.run(scenario())
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "bug" not in (error.details() or "")
    [record] = [json.loads(line) for line in audit_file.read_text().splitlines()]
    assert (record["rpc"], record["outcome"]) == ("CreateRestoreSession", "INTERNAL")
    assert record["request_id"] == request.request_id, where
