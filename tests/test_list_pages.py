"""Session lists filled from Graph's: SharePoint's and Exchange's sessions come from
Graph's list of every workload's (and a caller bound to its own sessions sees only
those), so one Graph page may hold none of them. A caller's page is filled from as many
Graph pages as it takes, never answered empty with a next token, and bounded in Graph
calls once it holds a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import sharepoint_restore_service_pb2_grpc as sharepoint_grpc
from helpers import create_request
from processes import Emulator, own_gateway, running_emulator
from test_workloads import SHAREPOINT

# Graph pages one list call reads once its page holds a session (restore/service.py).
GRAPH_PAGES_PER_LIST = 10
LIST = "/v1.0/solutions/backupRestore/restoreSessions"


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
    own: tuple[Emulator, Any, Any],
) -> None:
    emulator, onedrive, sharepoint = own
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
