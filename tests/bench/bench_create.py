"""`make bench`: CreateRestoreSession through the gateway against the same creates sent
straight to the emulator, in one run, with 64 in flight. Also measures the HTTP
transports the gateway could use, the emulator's own create and get rates, and the floor:
a bare gRPC passthrough (tests/bench/passthrough.py) beside the gateway with its default
settings (request records in SQLite, audit to a file), alternating, with each server
process's CPU per create (from /proc) and the p50 with one call in flight.

Absolute numbers drift on shared machines: read the ratios against the direct path."""

from __future__ import annotations

import asyncio
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import grpc
import httpx
from httpx_aiohttp import AiohttpTransport

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from helpers import create_request
from processes import CREATE_PATH, Emulator, Gateway, own_gateway, running_emulator

CALLS = 2000
IN_FLIGHT = 64
# Calls one after the other, for the latency a single caller sees.
SERIAL_CALLS = 300
ROUNDS = 3
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
BODY = {"driveRestoreArtifacts": [{"restorePoint": {"id": "rp-bench"}, "destinationType": "new"}]}


@dataclass(frozen=True)
class Row:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float


async def measure(
    name: str, call: Callable[[], Awaitable[None]], calls: int = CALLS, in_flight: int = IN_FLIGHT
) -> Row:
    """Run `calls` calls, `in_flight` at a time; requests/s and latency percentiles."""
    latencies: list[float] = []
    queue = iter(range(calls))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    await call()  # warm up connections and the token
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return Row(name, calls / elapsed, cuts[49] * 1e3, cuts[98] * 1e3)


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


@dataclass(frozen=True)
class Floor:
    """One server's figures for the floor table."""

    name: str
    cpu_ms_per_create: float
    loaded: Row
    single: Row


async def measure_floor(name: str, address: str, pid: int) -> Floor:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = service_grpc.OneDriveRestoreServiceStub(channel)

        async def create() -> None:
            await stub.CreateRestoreSession(create_request("rp-bench"), timeout=30)

        await create()
        before = cpu_seconds(pid)
        loaded = await measure(name, create)
        cpu_ms = (cpu_seconds(pid) - before) * 1e3 / CALLS
        single = await measure(name, create, SERIAL_CALLS, 1)
    return Floor(name, cpu_ms, loaded, single)


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

    return results


@contextmanager
def passthrough(emulator: Emulator) -> Iterator[tuple[str, int]]:
    """The bare passthrough server: its address and pid."""
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("passthrough.py")),
            emulator.info["graph_url"],
            emulator.info["ca_file"],
            graph_token(emulator),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    try:
        yield f"127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def print_floor(floors: list[Floor]) -> None:
    print(
        f"\nthe floor: {CALLS} creates at {IN_FLIGHT} in flight and {SERIAL_CALLS} at 1, "
        f"{ROUNDS} rounds alternating; CPU of the server process only"
    )
    print(f"{'server':<34} {'CPU ms/create':>13} {'req/s':>7} {'p50 ms @64':>10} {'p50 ms @1':>9}")
    for floor in floors:
        print(
            f"{floor.name:<38} {floor.cpu_ms_per_create:>13.2f} {floor.loaded.rps:>7.0f}"
            f" {floor.loaded.p50_ms:>10.1f} {floor.single.p50_ms:>9.2f}"
        )
    bare = [f for f in floors if f.name.startswith("passthrough")]
    ours = [f for f in floors if f.name.startswith("gateway")]
    # Each round against the passthrough measured just before it: the spread between
    # rounds is the drift of this machine, against which any change must be read.
    for number, (base, gateway) in enumerate(zip(bare, ours, strict=True), 1):
        print(f"round {number}: {_ratios([base], [gateway])}")
    print(f"gateway / passthrough, all rounds: {_ratios(bare, ours)}")


def _ratios(bare: list[Floor], ours: list[Floor]) -> str:
    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    cpu = mean([f.cpu_ms_per_create for f in ours]) / mean([f.cpu_ms_per_create for f in bare])
    p50 = mean([f.loaded.p50_ms for f in ours]) / mean([f.loaded.p50_ms for f in bare])
    added = mean([f.single.p50_ms for f in ours]) - mean([f.single.p50_ms for f in bare])
    return (
        f"CPU per create {cpu:.2f}x, p50 at {IN_FLIGHT} in flight {p50:.2f}x, "
        f"added p50 at 1 in flight {added:.2f} ms"
    )


@contextmanager
def default_gateway(emulator: Emulator, state_dir: Path) -> Iterator[Gateway]:
    """The gateway with its default settings (SQLite records, audit to a file), but for
    the Graph budget, which would cap it: lifted to measure the gateway itself."""
    env = {
        **emulator.gateway_env(),
        "GRAPHRESTORE_GRAPH_RATE": "1000000",
        "GRAPHRESTORE_GRAPH_BURST": "1000000",
        "GRAPHRESTORE_AUDIT_FILE": str(state_dir / "audit.jsonl"),
    }
    with own_gateway(env) as (gateway, _):
        yield gateway


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as state_dir,
        running_emulator(Path(state_dir)) as emulator,
        default_gateway(emulator, Path(state_dir)) as gateway,
        passthrough(emulator) as (bare_address, bare_pid),
    ):
        results = asyncio.run(run(emulator, gateway.address))
        floors: list[Floor] = []
        for _ in range(ROUNDS):
            floors.append(
                asyncio.run(
                    measure_floor("passthrough (bare grpc.aio + aiohttp)", bare_address, bare_pid)
                )
            )
            floors.append(
                asyncio.run(
                    measure_floor(
                        "gateway (default settings)", gateway.address, gateway.process.pid
                    )
                )
            )
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
    print_floor(floors)


if __name__ == "__main__":
    main()
