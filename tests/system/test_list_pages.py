"""Session lists filled from Graph's: SharePoint's and Exchange's sessions come from
Graph's list of every workload's (and a caller bound to its own sessions sees only
those), so one Graph page may hold none of them. A caller's page is filled from Graph's
pages of 1000, resuming inside one where the last page ended, and bounded in Graph
calls: answered short with a token at the bound, or, when the bound is reached before
any session, empty with a token (the bound wins)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from graphrestore.channel import open_channel
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import sharepoint_restore_service_pb2_grpc as sharepoint_grpc
from helpers import create_request
from mailboxes import Rule
from processes import Emulator, MtlsGateway, own_gateway, running_emulator, start_mtls_gateway
from test_workloads import SHAREPOINT

# Graph pages one list call reads at most (restore/service.py).
GRAPH_PAGES_PER_LIST = 10
LIST = "/v1.0/solutions/backupRestore/restoreSessions"
METHODS = tuple(
    sorted(service_pb.DESCRIPTOR.services_by_name["OneDriveRestoreService"].methods_by_name)
)


@pytest.fixture
def own(tmp_path: Path) -> Iterator[tuple[Emulator, Any, Any]]:
    """An emulator of the test's own (its list holds only what the test made) and a
    gateway on it: OneDrive's stub and SharePoint's."""
    with (
        running_emulator(tmp_path / "emulator") as emulator,
        own_gateway(emulator.gateway_env()) as (gateway, onedrive),
        grpc.insecure_channel(gateway.address) as channel,
    ):
        yield emulator, onedrive, sharepoint_grpc.SharePointRestoreServiceStub(channel)


@pytest.fixture
def one_a_page(tmp_path: Path) -> Iterator[tuple[Emulator, Any, Any]]:
    """As `own`, on an emulator whose every Graph page holds one item, whatever $top asks
    (Graph pages on its side too): the gateway's Graph pages made small enough to count."""
    with (
        running_emulator(tmp_path / "emulator", "--page-size-limit", "1") as emulator,
        own_gateway(emulator.gateway_env()) as (gateway, onedrive),
        grpc.insecure_channel(gateway.address) as channel,
    ):
        yield emulator, onedrive, sharepoint_grpc.SharePointRestoreServiceStub(channel)


def site_session(sharepoint: Any, name: str) -> str:
    return SHAREPOINT.create(sharepoint, *SHAREPOINT.points(name)).id


def drive_sessions(onedrive: Any, count: int) -> None:
    for index in range(count):
        onedrive.CreateRestoreSession(create_request(f"rp-list-{index}"), timeout=30)


def pages(sharepoint: Any, page_size: int) -> list[tuple[list[str], str]]:
    """Every page of SharePoint's list: (session ids, next token)."""
    found, token = [], ""
    while True:
        page = sharepoint.ListRestoreSessions(
            service_pb.ListRestoreSessionsRequest(page_size=page_size, page_token=token),
            timeout=30,
        )
        token = page.next_page_token
        found.append(([s.id for s in page.restore_sessions], token))
        if not token:
            return found


def graph_lists(emulator: Emulator) -> int:
    return sum(1 for r in emulator.journal() if r["method"] == "GET" and r["path"] == LIST)


def listed_before(sharepoint: Any) -> list[str]:
    """The SharePoint sessions the emulator starts with (first in Graph's list)."""
    return [id for ids, _ in pages(sharepoint, page_size=1000) for id in ids]


def test_a_page_is_filled_past_graph_pages_of_other_workloads(
    own: tuple[Emulator, Any, Any],
) -> None:
    _, onedrive, sharepoint = own
    before = listed_before(sharepoint)
    first = site_session(sharepoint, "first")
    drive_sessions(onedrive, 4)
    second = site_session(sharepoint, "second")
    for page_size in (len(before) + 2, 1):
        listed = pages(sharepoint, page_size)
        assert all(ids for ids, token in listed if token), listed
        assert [id for ids, _ in listed for id in ids] == [*before, first, second]
    # One page of the two and those before: Graph's pages of drives in between.
    [(ids, _)] = pages(sharepoint, page_size=len(before) + 2)
    assert ids == [*before, first, second]


def test_a_page_holding_a_session_stops_after_so_many_graph_calls(
    one_a_page: tuple[Emulator, Any, Any],
) -> None:
    emulator, onedrive, sharepoint = one_a_page
    before = listed_before(sharepoint)
    first = site_session(sharepoint, "first")
    drive_sessions(onedrive, GRAPH_PAGES_PER_LIST + 3)
    second = site_session(sharepoint, "second")
    calls = graph_lists(emulator)
    page_size = len(before) + 2
    page = sharepoint.ListRestoreSessions(
        service_pb.ListRestoreSessionsRequest(page_size=page_size), timeout=30
    )
    # Short, with a token: the bound was hit once the page held sessions.
    assert [s.id for s in page.restore_sessions] == [*before, first]
    assert page.next_page_token
    assert graph_lists(emulator) - calls == GRAPH_PAGES_PER_LIST
    rest = sharepoint.ListRestoreSessions(
        service_pb.ListRestoreSessionsRequest(page_size=page_size, page_token=page.next_page_token),
        timeout=30,
    )
    assert [s.id for s in rest.restore_sessions] == [second]
    assert not rest.next_page_token


def test_a_page_that_finds_no_session_within_the_bound_is_empty_with_a_token(
    one_a_page: tuple[Emulator, Any, Any],
) -> None:
    """The bound wins over filling the page (AIP-158 allows an empty page with a token):
    no list call costs more than GRAPH_PAGES_PER_LIST Graph calls, whatever lies between
    the caller's sessions; the token goes on from where the bound stopped."""
    emulator, onedrive, sharepoint = one_a_page
    before = listed_before(sharepoint)
    drive_sessions(onedrive, GRAPH_PAGES_PER_LIST + 2)
    last = site_session(sharepoint, "last")
    first = sharepoint.ListRestoreSessions(
        service_pb.ListRestoreSessionsRequest(page_size=len(before)), timeout=30
    )
    assert [s.id for s in first.restore_sessions] == before
    calls = graph_lists(emulator)
    empty = sharepoint.ListRestoreSessions(
        service_pb.ListRestoreSessionsRequest(page_token=first.next_page_token), timeout=30
    )
    assert not empty.restore_sessions and empty.next_page_token
    assert graph_lists(emulator) - calls == GRAPH_PAGES_PER_LIST
    rest = sharepoint.ListRestoreSessions(
        service_pb.ListRestoreSessionsRequest(page_token=empty.next_page_token), timeout=30
    )
    assert [s.id for s in rest.restore_sessions] == [last]
    assert not rest.next_page_token


def test_a_page_ending_inside_a_graph_page_goes_on_from_there_at_one_graph_call_each(
    own: tuple[Emulator, Any, Any],
) -> None:
    """Graph's pages of 1000 hold every session here: each caller page of one is one
    Graph call, resumed inside that Graph page by the token."""
    emulator, onedrive, sharepoint = own
    before = listed_before(sharepoint)
    made = [site_session(sharepoint, f"site-{index}") for index in range(3)]
    drive_sessions(onedrive, 3)
    calls = graph_lists(emulator)
    listed = pages(sharepoint, page_size=1)
    assert [id for ids, _ in listed for id in ids] == [*before, *made]
    assert all(len(ids) == 1 for ids, _ in listed)
    assert graph_lists(emulator) - calls == len(listed)


def test_a_caller_bound_to_its_own_sessions_gets_full_pages_of_them(
    tmp_path: Path,
) -> None:
    """OneDrive's list holds every caller's sessions: one that sees only its own gets
    pages of those, past Graph's pages of another's."""
    rules = {
        name: Rule(f"spiffe://corp/ns/{name}/sa/{name}", workloads=("onedrive",), methods=METHODS)
        for name in ("mine", "theirs")
    }
    with running_emulator(tmp_path / "emulator") as emulator:
        base = start_mtls_gateway(
            emulator.gateway_env(), tmp_path, "\n".join(r.toml() for r in rules.values())
        )
        try:
            with caller(base, rules["mine"]) as mine, caller(base, rules["theirs"]) as theirs:
                first = mine.CreateRestoreSession(create_request("rp-own-first"), timeout=30).id
                drive_sessions(theirs, 4)
                second = mine.CreateRestoreSession(create_request("rp-own-second"), timeout=30).id
                page = mine.ListRestoreSessions(
                    service_pb.ListRestoreSessionsRequest(page_size=2), timeout=30
                )
                assert [s.id for s in page.restore_sessions] == [first, second]
        finally:
            assert base.gateway.stop() == 0


@contextmanager
def caller(base: MtlsGateway, rule: Rule) -> Iterator[Any]:
    name = rule.uri.rsplit("/", 1)[1]
    issued = base.ca.issue(name, name, uri=rule.uri)
    with open_channel(
        base.gateway.address,
        ca_file=str(base.ca.cert_file),
        cert_file=str(issued.cert_file),
        key_file=str(issued.key_file),
    ) as channel:
        yield service_grpc.OneDriveRestoreServiceStub(channel)
