"""`make bench-sdk`: the comparison row. The same creates as `make bench`'s floor, sent
by a service that holds the Graph permission itself and uses Microsoft's msgraph-sdk
(tests/bench/sdk_creates.py, run with the throwaway venv's python given as argument),
beside the gateway with its default settings, in one run against one emulator.

    python bench_sdk.py SDK_PYTHON"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_create import (
    CALLS,
    IN_FLIGHT,
    SERIAL_CALLS,
    Floor,
    Row,
    default_gateway,
    graph_token,
    measure_floor,
)
from processes import Emulator, running_emulator


def sdk_floor(sdk_python: str, emulator: Emulator) -> Floor:
    """The SDK's figures, measured inside its own process (the service's CPU)."""
    args = [emulator.info["graph_url"], emulator.info["ca_file"], graph_token(emulator)]
    counts = [str(CALLS), str(IN_FLIGHT), str(SERIAL_CALLS)]
    script = str(Path(__file__).with_name("sdk_creates.py"))
    run = subprocess.run(
        [sdk_python, script, *args, *counts], capture_output=True, text=True, check=True
    )
    figures = json.loads(run.stdout)
    name = "service with msgraph-sdk"
    return Floor(
        name,
        figures["cpu_ms_per_create"],
        Row(name, figures["rps"], figures["p50_ms"], 0.0),
        Row(name, 0.0, figures["p50_single_ms"], 0.0),
    )


def main() -> None:
    sdk_python = sys.argv[1]
    with (
        tempfile.TemporaryDirectory() as state_dir,
        running_emulator(Path(state_dir)) as emulator,
        default_gateway(emulator, Path(state_dir)) as gateway,
    ):
        floors = [
            asyncio.run(
                measure_floor("gateway (default settings)", gateway.address, gateway.process.pid)
            ),
            sdk_floor(sdk_python, emulator),
        ]
    print(
        f"{CALLS} creates at {IN_FLIGHT} in flight and {SERIAL_CALLS} at 1; CPU of the process"
        " that talks to Graph (the gateway's server, or the service using the SDK)"
    )
    print(f"{'path':<30} {'CPU ms/create':>13} {'req/s':>7} {'p50 ms @64':>10} {'p50 ms @1':>9}")
    for floor in floors:
        print(
            f"{floor.name:<30} {floor.cpu_ms_per_create:>13.2f} {floor.loaded.rps:>7.0f}"
            f" {floor.loaded.p50_ms:>10.1f} {floor.single.p50_ms:>9.2f}"
        )
    ours, sdk = floors
    cpu = sdk.cpu_ms_per_create / ours.cpu_ms_per_create
    p50 = sdk.loaded.p50_ms / ours.loaded.p50_ms
    print(f"msgraph-sdk / gateway: CPU per create {cpu:.1f}x, p50 at {IN_FLIGHT} {p50:.1f}x")


if __name__ == "__main__":
    main()
