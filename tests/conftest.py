"""Fixtures: one emulator and one gateway per test session, real processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from processes import Emulator, Gateway, running_emulator, start_gateway

# Protected drives in the shared emulator (search and restore by drive).
SEEDED_DRIVES = 100


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    state_dir = tmp_path_factory.mktemp("emulator")
    with running_emulator(state_dir, "--seed-drives", str(SEEDED_DRIVES)) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").clear_faults()


@pytest.fixture(scope="session")
def gateway(emulator: Emulator) -> Iterator[Gateway]:
    gateway = start_gateway(emulator.gateway_env())
    yield gateway
    assert gateway.stop() == 0


@pytest.fixture(scope="session")
def channel(gateway: Gateway) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(gateway.address) as channel:
        yield channel


@pytest.fixture(scope="session")
def stub(channel: grpc.Channel) -> service_grpc.OneDriveRestoreServiceStub:
    return service_grpc.OneDriveRestoreServiceStub(channel)
