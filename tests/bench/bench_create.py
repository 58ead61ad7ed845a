"""`make bench`: CreateRestoreSession through the gateway against the same creates sent
straight to the emulator, in one run, with 64 in flight. Also measures the HTTP
transports the gateway could use, and the emulator's own create and get rates.

Absolute numbers drift on shared machines: read the ratios against the direct path."""

from __future__ import annotations

import asyncio
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import grpc
import httpx
from httpx_aiohttp import AiohttpTransport

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from helpers import create_request
from processes import CREATE_PATH, Emulator, own_gateway, running_emulator

CALLS = 2000
IN_FLIGHT = 64
BODY = {"driveRestoreArtifacts": [{"restorePoint": {"id": "rp-bench"}, "destinationType": "new"}]}


@dataclass(frozen=True)
class Row:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float


async def measure(name: str, call: Callable[[], Awaitable[None]]) -> Row:
    """Run CALLS calls, IN_FLIGHT at a time; requests/s and latency percentiles."""
    latencies: list[float] = []
    queue = iter(range(CALLS))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    await call()  # warm up connections and the token
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return Row(name, CALLS / elapsed, cuts[49] * 1e3, cuts[98] * 1e3)


def graph_token(emulator: Emulator) -> str:
    answer = emulator.control.post(
        "/_emulator/tokens",
        json={"client_id": emulator.info["client_id"], "audience": "https://graph.microsoft.com"},
    )
    return str(answer.json()["access_token"])


async def run(emulator: Emulator, gateway_address: str) -> list[Row]:
    context = ssl.create_default_context(cafile=emulator.info["ca_file"])
    url = emulator.info["graph_url"] + CREATE_PATH
    headers = {"Authorization": f"Bearer {graph_token(emulator)}"}
    limits = httpx.Limits(max_connections=100)
    results = []

    async with httpx.AsyncClient(
        transport=AiohttpTransport(verify=context, limits=limits)
    ) as client:

        async def httpx_aiohttp_create() -> None:
            (await client.post(url, json=BODY, headers=headers)).raise_for_status()

        results.append(
            await measure("direct: httpx + aiohttp transport (gateway's)", httpx_aiohttp_create)
        )

        session_id = (await client.post(url, json=BODY, headers=headers)).json()["id"]

        async def httpx_aiohttp_get() -> None:
            (await client.get(f"{url}/{session_id}", headers=headers)).raise_for_status()

        results.append(await measure("direct: emulator get session", httpx_aiohttp_get))

    async with httpx.AsyncClient(verify=context, limits=limits) as client:

        async def httpx_default_create() -> None:
            (await client.post(url, json=BODY, headers=headers)).raise_for_status()

        results.append(await measure("direct: httpx default pool", httpx_default_create))

    connector = aiohttp.TCPConnector(ssl=context, limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def aiohttp_create() -> None:
            async with session.post(url, json=BODY, headers=headers) as response:
                await response.read()
                response.raise_for_status()

        results.append(await measure("direct: aiohttp", aiohttp_create))

    async with grpc.aio.insecure_channel(gateway_address) as channel:
        stub = service_grpc.OneDriveRestoreServiceStub(channel)

        async def gateway_create() -> None:
            await stub.CreateRestoreSession(create_request("rp-bench"), timeout=30)

        results.append(await measure("gateway: CreateRestoreSession over gRPC", gateway_create))
    return results


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as state_dir,
        running_emulator(Path(state_dir)) as emulator,
        # The Graph budget would cap the gateway row: lift it to measure the gateway itself.
        own_gateway(
            {
                **emulator.gateway_env(),
                "GRAPHRESTORE_GRAPH_RATE": "1000000",
                "GRAPHRESTORE_GRAPH_BURST": "1000000",
            }
        ) as (gateway, _),
    ):
        results = asyncio.run(run(emulator, gateway.address))
    baseline = results[0].rps
    print(
        f"{CALLS} creates, {IN_FLIGHT} in flight, loopback TLS; ratio = requests/s vs the first row"
    )
    print(f"{'path':<48} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}")
    for row in results:
        print(
            f"{row.name:<48} {row.rps:>8.0f} {row.p50_ms:>8.1f} {row.p99_ms:>8.1f}"
            f" {row.rps / baseline:>6.2f}"
        )


if __name__ == "__main__":
    main()
