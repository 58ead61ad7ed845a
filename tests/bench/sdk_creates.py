"""The comparison row of `make bench-sdk`: a service creating the same restore sessions
itself with Microsoft's msgraph-sdk (token fetched once, the SDK's default middleware).
Runs in its own throwaway venv (msgraph-sdk is large), so it imports nothing of ours.

    python sdk_creates.py GRAPH_URL CA_FILE TOKEN CALLS IN_FLIGHT SERIAL_CALLS
        -> one JSON line: its own CPU ms per create, req/s, p50 at IN_FLIGHT and at 1
"""

from __future__ import annotations

import asyncio
import json
import ssl
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.destination_type import DestinationType
from msgraph.generated.models.drive_restore_artifact import DriveRestoreArtifact
from msgraph.generated.models.one_drive_for_business_restore_session import (
    OneDriveForBusinessRestoreSession,
)
from msgraph.generated.models.restore_point import RestorePoint
from msgraph_core import GraphClientFactory


class FixedToken(AccessTokenProvider):
    def __init__(self, token: str, host: str) -> None:
        self._token = token
        self._hosts = AllowedHostsValidator([host])

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


async def measure(create: Callable[[], Awaitable[None]], calls: int, in_flight: int) -> list[float]:
    latencies: list[float] = []
    queue = iter(range(calls))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            await create()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return latencies


async def main(
    graph_url: str, ca_file: str, token: str, calls: int, in_flight: int, serial: int
) -> None:
    http = httpx.AsyncClient(
        verify=ssl.create_default_context(cafile=ca_file),
        limits=httpx.Limits(max_connections=100),
    )
    adapter = GraphRequestAdapter(
        BaseBearerTokenAuthenticationProvider(FixedToken(token, httpx.URL(graph_url).host)),
        GraphClientFactory.create_with_default_middleware(client=http),
    )
    adapter.base_url = f"{graph_url}/v1.0"
    graph = GraphServiceClient(request_adapter=adapter)
    sessions = graph.solutions.backup_restore.one_drive_for_business_restore_sessions

    async def create() -> None:
        body = OneDriveForBusinessRestoreSession(
            drive_restore_artifacts=[
                DriveRestoreArtifact(
                    restore_point=RestorePoint(id="rp-bench"),
                    destination_type=DestinationType.New,
                )
            ]
        )
        created = await sessions.post(body)
        assert created is not None and created.id

    await create()
    cpu_before, started = time.process_time(), time.perf_counter()
    loaded = await measure(create, calls, in_flight)
    elapsed = time.perf_counter() - started
    cpu_ms = (time.process_time() - cpu_before) * 1e3 / calls
    single = await measure(create, serial, 1)
    print(
        json.dumps(
            {
                "cpu_ms_per_create": cpu_ms,
                "rps": calls / elapsed,
                "p50_ms": statistics.median(loaded) * 1e3,
                "p50_single_ms": statistics.median(single) * 1e3,
            }
        )
    )


if __name__ == "__main__":
    url, ca, token, calls, in_flight, serial = sys.argv[1:]
    asyncio.run(main(url, ca, token, int(calls), int(in_flight), int(serial)))
