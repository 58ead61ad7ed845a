"""`make bench`, the flood figure: one caller's create p50 while another caller floods the
gateway with invalid requests, as a ratio to its p50 without the flood, in one run.

Both callers present client certificates of the gateway's CA (mTLS), so each is its own
caller. The flood runs in a process of its own (its client work must not share the
measuring process's interpreter): requests naming more artifacts than a request may hold,
each refused as invalid, sent as fast as the gateway answers them. Target: 2x at most."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from helpers import create_request
from pki import Issued
from processes import MtlsGateway, running_emulator, start_mtls_gateway

# How long the victim's creates are timed, one after the other, with and without the flood.
VICTIM_S = 10.0
FLOOD_IN_FLIGHT = 32
# One more than a request may name: invalid, and as large as a request the audit reads.
FLOOD_ARTIFACTS = 10_001
SERVICE = "graphrestore.v1.OneDriveRestoreService"
POLICY = """
[[callers]]
id = "cn:victim"
methods = ["CreateRestoreSession"]
destination_types = ["new"]
max_artifacts = 10

[[callers]]
id = "cn:flooder"
methods = ["CreateRestoreSession"]
destination_types = ["new"]
max_artifacts = 10
"""


def victim_p50_ms(mtls: MtlsGateway, victim: Issued) -> float:
    """The p50 of creates sent one after the other for VICTIM_S."""
    channel, stub = mtls.stub(victim)
    latencies = []
    with channel:
        stub.CreateRestoreSession(create_request("rp-bench"), timeout=30)  # warm up
        until = time.monotonic() + VICTIM_S
        while time.monotonic() < until:
            started = time.perf_counter()
            stub.CreateRestoreSession(create_request("rp-bench"), timeout=30)
            latencies.append(time.perf_counter() - started)
    return statistics.median(latencies) * 1e3


async def flood(address: str, ca_file: str, cert_file: str, key_file: str) -> None:
    """Invalid creates, FLOOD_IN_FLIGHT at a time, until stdin closes; then how many were
    answered and with which codes, on stdout."""
    request = service_pb.CreateRestoreSessionRequest(
        restore_session=pb.RestoreSession(
            drive_restore_artifacts=[
                pb.DriveRestoreArtifact(
                    restore_point=pb.RestorePoint(id=f"rp-{i}"),
                    destination_type=pb.DESTINATION_TYPE_NEW,
                )
                for i in range(FLOOD_ARTIFACTS)
            ]
        )
    )
    credentials = grpc.ssl_channel_credentials(
        Path(ca_file).read_bytes(), Path(key_file).read_bytes(), Path(cert_file).read_bytes()
    )
    codes: dict[str, int] = {}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), stop.set)  # readable at EOF
    body = request.SerializeToString()
    async with grpc.aio.secure_channel(address, credentials) as channel:
        # Sent as bytes serialized once: the flooder's own work must not take the CPU
        # the gateway and the victim share with it.
        create = channel.unary_unary(f"/{SERVICE}/CreateRestoreSession")

        async def worker() -> None:
            while not stop.is_set():
                try:
                    await create(body, timeout=30)
                    code = "OK"
                except grpc.aio.AioRpcError as error:
                    code = error.code().name
                codes[code] = codes.get(code, 0) + 1

        print("flooding", flush=True)
        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(FLOOD_IN_FLIGHT)))
        elapsed = time.monotonic() - started
    answered = sum(codes.values())
    print(f"{answered / elapsed:.0f} refused requests/s answered, {codes}", flush=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, running_emulator(Path(folder)) as emulator:
        env = {
            **emulator.gateway_env(),
            # Lifted, so that only the flood can slow the victim down.
            "GRAPHRESTORE_GRAPH_RATE": "1000000",
            "GRAPHRESTORE_GRAPH_BURST": "1000000",
        }
        mtls = start_mtls_gateway(env, Path(folder), POLICY)
        victim = mtls.ca.issue("victim", "victim")
        flooder = mtls.ca.issue("flooder", "flooder")
        try:
            quiet_ms = victim_p50_ms(mtls, victim)
            flooding = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "flood",
                    mtls.gateway.address,
                    str(mtls.ca.cert_file),
                    str(flooder.cert_file),
                    str(flooder.key_file),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert flooding.stdout is not None and flooding.stdin is not None
            assert flooding.stdout.readline().strip() == "flooding"
            flooded_ms = victim_p50_ms(mtls, victim)
            flooding.stdin.close()
            flood_rate = flooding.stdout.read().strip()
            flooding.wait(timeout=60)
            audit_mb = mtls.audit_file.stat().st_size / 1e6
        finally:
            mtls.gateway.stop()
    print(
        f"\nflood: another caller's create p50 while one caller floods invalid requests "
        f"({FLOOD_ARTIFACTS} artifacts each, {FLOOD_IN_FLIGHT} in flight); "
        f"the other's creates at 1 in flight for {VICTIM_S:.0f} s each"
    )
    print(f"flooder: {flood_rate}; audit file {audit_mb:.1f} MB")
    print(
        f"victim p50 {quiet_ms:.1f} ms without the flood, {flooded_ms:.1f} ms with it: "
        f"{flooded_ms / quiet_ms:.2f}x (target: at most 2x)"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["flood"]:
        asyncio.run(flood(*sys.argv[2:6]))
    else:
        main()
