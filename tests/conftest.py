"""Fixtures: one emulator and one gateway per test session, real processes on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from graphrestore.v1 import exchange_restore_service_pb2_grpc as exchange_grpc
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import sharepoint_restore_service_pb2_grpc as sharepoint_grpc
from processes import (
    STARTED_GATEWAYS,
    Emulator,
    Gateway,
    running_emulator,
    running_redis,
    start_gateway,
)

# header.payload. of a JWT: base64url JSON ('{"' is "eyJ"), then a signature.
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.")
# Protected drives, mailboxes (of the same users) and sites in the shared emulator.
SEEDED_DRIVES = 100
SEEDED_MAILBOXES = 100
SEEDED_SITES = 30


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    state_dir = tmp_path_factory.mktemp("emulator")
    seeds = ("--seed-drives", str(SEEDED_DRIVES), "--seed-mailboxes", str(SEEDED_MAILBOXES))
    with running_emulator(state_dir, *seeds, "--seed-sites", str(SEEDED_SITES)) as emulator:
        yield emulator
        # Every body any gateway sent in any test fitted Graph's schema (the emulator
        # refuses one that does not, and keeps what it refused).
        refused = emulator.counters()["schema_refusals"]
        assert not [r for r in refused if r["client_request_id"]], refused


@pytest.fixture(scope="session", autouse=True)
def _no_secret_in_any_gateway_output(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test: nothing any gateway wrote (logs, audit) holds the client secret,
    a private key or any JWT (access tokens, assertions, callers' bearer tokens).

    It asks for the shared emulator (whose secret the gateways hold) only when a collected
    test uses it, so that a run of pure unit tests starts no process."""
    uses_emulator = any("emulator" in item.fixturenames for item in request.session.items)
    emulator: Emulator | None = request.getfixturevalue("emulator") if uses_emulator else None
    yield
    secret = Path(emulator.info["client_secret_file"]).read_text().strip() if emulator else None
    for gateway in STARTED_GATEWAYS:
        gateway.stop()
        written = gateway.everything_written()
        assert written, "a gateway wrote nothing at all"
        assert secret is None or secret not in written
        assert "PRIVATE KEY" not in written
        # No JWT of any kind (access tokens, assertions, callers' bearer tokens).
        assert not JWT_SHAPE.search(written)


@pytest.fixture(autouse=True)
def _runs_in_the_tests_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every `restorectl restore` a test runs writes its run record in the test's folder,
    never in the home directory."""
    monkeypatch.setenv("GRAPHRESTORE_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").clear_faults()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of the test session's own, on a free loopback port."""
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def gateway(emulator: Emulator) -> Iterator[Gateway]:
    # Every test that shares it is its one anonymous caller, and some send hundreds of
    # invalid requests in seconds: its refused-call budget is lifted (the budget has a
    # gateway of its own in test_refusal_budget.py).
    gateway = start_gateway(
        {**emulator.gateway_env(), "GRAPHRESTORE_REFUSED_CALLS_PER_MINUTE": "1000000"}
    )
    yield gateway
    assert gateway.stop() == 0


@pytest.fixture(scope="session")
def channel(gateway: Gateway) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(gateway.address) as channel:
        yield channel


@pytest.fixture(scope="session")
def stub(channel: grpc.Channel) -> service_grpc.OneDriveRestoreServiceStub:
    return service_grpc.OneDriveRestoreServiceStub(channel)


@pytest.fixture(scope="session")
def sharepoint(channel: grpc.Channel) -> sharepoint_grpc.SharePointRestoreServiceStub:
    return sharepoint_grpc.SharePointRestoreServiceStub(channel)


@pytest.fixture(scope="session")
def exchange(channel: grpc.Channel) -> exchange_grpc.ExchangeRestoreServiceStub:
    return exchange_grpc.ExchangeRestoreServiceStub(channel)
