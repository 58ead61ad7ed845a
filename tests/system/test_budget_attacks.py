"""A caller limited by its policy spends the tenant's Graph budget or stops every other
caller: list page filling, FindSiteProtectionUnit, 429 pauses. Each test states the
property the gateway keeps. Found by the red team (2026-12-03)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from browsing import BrowseGateway, Rule, site_units, start_browse_gateway
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb
from helpers import create_request, error_info, retry_delay_s
from processes import Emulator, own_gateway, running_emulator

Stub = service_grpc.OneDriveRestoreServiceStub
LIST = "/v1.0/solutions/backupRestore/restoreSessions"
SITE_UNITS = "/v1.0/solutions/backupRestore/siteProtectionUnits"
# Graph pages one list call reads at most (restore/service.py).
GRAPH_PAGES_PER_LIST = 10
OTHERS_SESSIONS = 30
# The longest wait between attempts the gateway sets itself (graph/backoff.py DEFAULT_CAP_S).
LONGEST_WAIT_S = 60.0


def graph_lists(emulator: Emulator, since: int) -> int:
    return sum(1 for r in emulator.journal()[since:] if r["method"] == "GET" and r["path"] == LIST)


@pytest.fixture
def two_callers(tmp_path: Path) -> Iterator[BrowseGateway]:
    """An emulator of the test's own and a gateway with two `own` callers: `maker`, who
    has made OTHERS_SESSIONS sessions, and `snoop`, who has made none."""
    with running_emulator(tmp_path / "emulator") as emulator:
        rules = {
            "maker": Rule("spiffe://corp/ns/ir/sa/maker"),
            "snoop": Rule("spiffe://corp/ns/ir/sa/snoop"),
        }
        (tmp_path / "gateway").mkdir()
        gateway = start_browse_gateway(emulator, tmp_path / "gateway", rules)
        try:
            with gateway.stubs("maker") as maker:
                for index in range(OTHERS_SESSIONS):
                    maker.onedrive.CreateRestoreSession(
                        create_request(f"rp-redteam-{index}"), timeout=30
                    )
            yield gateway
        finally:
            assert gateway.mtls.gateway.stop() == 0


def test_an_own_caller_with_no_sessions_cannot_spend_a_graph_call_per_other_session(
    two_callers: BrowseGateway,
) -> None:
    emulator = two_callers.emulator
    since = len(emulator.journal())
    with two_callers.stubs("snoop") as snoop:
        page = snoop.sharepoint.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=1), timeout=60
        )
    assert not page.restore_sessions
    spent = graph_lists(emulator, since)
    print(f"Graph list calls for one SharePoint ListRestoreSessions(page_size=1) of snoop: {spent}")
    assert spent <= GRAPH_PAGES_PER_LIST


def test_an_own_caller_with_no_sessions_is_not_charged_as_refused_for_listing(
    two_callers: BrowseGateway,
) -> None:
    """An empty list is an answer, not a refusal, so the refused-call budget never turns
    the caller away: what bounds it is each RPC's cost, the same over many RPCs (one
    Graph page of sessions here), so it says nothing of how many sessions the tenant
    holds."""
    emulator = two_callers.emulator
    spent = []
    with two_callers.stubs("snoop") as snoop:
        for _ in range(5):
            since = len(emulator.journal())
            snoop.sharepoint.ListRestoreSessions(
                service_pb.ListRestoreSessionsRequest(page_size=1), timeout=60
            )
            spent.append(graph_lists(emulator, since))
    print(f"Graph list calls per RPC over 5 RPCs: {spent}")
    assert set(spent) == {1}


@pytest.fixture
def sites_lab(tmp_path: Path) -> Iterator[tuple[BrowseGateway, list[str]]]:
    with running_emulator(tmp_path / "emulator", "--seed-sites", "350") as emulator:
        units = [u["id"] for u in site_units(emulator)]
        rules = {"bound": Rule("spiffe://corp/ns/hr/sa/bound", units=(units[0],))}
        (tmp_path / "gateway").mkdir()
        gateway = start_browse_gateway(emulator, tmp_path / "gateway", rules)
        try:
            yield gateway, units
        finally:
            assert gateway.mtls.gateway.stop() == 0


def test_a_bound_caller_s_refused_site_lookups_do_not_each_list_the_tenant(
    sites_lab: tuple[BrowseGateway, list[str]],
) -> None:
    gateway, _ = sites_lab
    emulator = gateway.emulator
    since = len(emulator.journal())
    lookups = 10
    with gateway.stubs("bound") as bound:
        for index in range(lookups):
            with pytest.raises(grpc.RpcError) as refused:
                bound.sharepoint.FindSiteProtectionUnit(
                    sharepoint_pb.FindSiteProtectionUnitRequest(
                        site_web_url=f"https://contoso.sharepoint.com/sites/none{index}"
                    ),
                    timeout=30,
                )
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    spent = len(gateway.graph_calls(since, "siteProtectionUnits"))
    print(f"Graph calls for {lookups} refused FindSiteProtectionUnit: {spent}")
    # One listing (4 pages of 100) answers every miss for a few seconds
    # (restore/site_lookup.py MISSES_FRESH_S): one for the lot, a second should a slow
    # machine cross that window; never one per refused lookup (40 pages).
    assert spent <= 2 * 4


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[tuple[Emulator, Stub]]:
    with (
        running_emulator(tmp_path / "emulator") as emulator,
        own_gateway(emulator.gateway_env()) as (_, stub),
    ):
        yield emulator, stub


def test_one_hostile_retry_after_does_not_stop_every_caller_for_a_day(
    throttled: tuple[Emulator, Stub],
) -> None:
    emulator, stub = throttled
    session = stub.CreateRestoreSession(create_request("rp-redteam-ra"), timeout=30)
    emulator.fault(
        kind="status",
        method="GET",
        path=f"/{session.id}$",
        status=429,
        code="TooManyRequests",
        retry_after_s=86400,
    )
    with pytest.raises(grpc.RpcError) as first:
        stub.GetRestoreSession(
            service_pb.GetRestoreSessionRequest(restore_session_id=session.id), timeout=10
        )
    print(f"first call: {first.value.code()} retry {retry_delay_s(first.value)}s")
    emulator.clear_faults()
    # Another call, another session, Graph well again: answered, or refused for no
    # longer than the gateway waits at most between attempts (graph/backoff.py).
    try:
        stub.CreateRestoreSession(create_request("rp-redteam-ra2"), timeout=10)
    except grpc.RpcError as error:
        print(
            f"next call: {error.code()} {error_info(error).reason} "
            f"retry {retry_delay_s(error)}s: {error.details()}"
        )
        assert (retry_delay_s(error) or 0) <= LONGEST_WAIT_S
