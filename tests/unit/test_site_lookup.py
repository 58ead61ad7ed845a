"""restore/site_lookup.py: which site URLs are asked of Graph, when two name one site, and
when Graph's list of sites is read again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb
from graphrestore_gateway.exceptions import SiteNotFound, SiteUrlsWithheld
from graphrestore_gateway.graph.client import GraphAnswer
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.restore.site_lookup import (
    MAX_SITE_URL_CHARS,
    MISSES_FRESH_S,
    SiteDirectory,
    normalized,
    site_url_violations,
)

LEGAL = "https://contoso.sharepoint.com/sites/legal"


@pytest.mark.parametrize(
    "url",
    [
        LEGAL,
        "https://contoso.sharepoint.com",
        "HTTPS://Contoso.SharePoint.com/Sites/Legal/",
        "https://contoso.sharepoint.com:443/sites/My%20Team",
        "https://contoso.sharepoint.com/" + "a" * (MAX_SITE_URL_CHARS - 31),
    ],
)
def test_a_site_url_is_taken(url: str) -> None:
    assert site_url_violations(url) == []


@pytest.mark.parametrize(
    "url",
    [
        "",
        "contoso.sharepoint.com/sites/legal",
        "http://contoso.sharepoint.com/sites/legal",
        "https:///sites/legal",
        "https: //contoso.sharepoint.com",
        "https://contoso.sharepoint.com/sites/le gal",
        "https://contoso.sharepoint.com/sites/legal\n",
        "https://contoso.sharepoint.com/sites/legal?web=1",
        "https://contoso.sharepoint.com/sites/legal#top",
        "https://contoso.sharepoint.com/sites/legal#",
        "https://eve@contoso.sharepoint.com/sites/legal",
        "https://contoso.sharepoint.com:x/sites/legal",
        "https://contoso.sharepoint.com/" + "a" * (MAX_SITE_URL_CHARS - 30),
    ],
)
def test_anything_else_is_refused_naming_the_field(url: str) -> None:
    [violation] = site_url_violations(url)
    assert violation.field == "site_web_url"


@pytest.mark.parametrize(
    "url",
    [
        "https://contoso.sharepoint.com/sites/legal/",
        "https://CONTOSO.sharepoint.com/Sites/Legal",
        "HTTPS://contoso.sharepoint.com:443/sites/legal//",
        "https://contoso.sharepoint.com/sites/%4Cegal",
    ],
)
def test_one_site_written_otherwise_is_the_same_site(url: str) -> None:
    assert normalized(url) == normalized(LEGAL)


@pytest.mark.parametrize(
    "url",
    [
        "https://contoso.sharepoint.com/sites/legal2",
        "https://contoso.sharepoint.com/teams/legal",
        "https://contoso.sharepoint.com/sites",
        "https://contoso-my.sharepoint.com/sites/legal",
        "https://contoso.sharepoint.com:8443/sites/legal",
    ],
)
def test_another_site_is_another(url: str) -> None:
    assert normalized(url) != normalized(LEGAL)


class Graph:
    """Graph's site units, two a page; each listing waits until `release` is set."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.units = [{"id": unit_id, "siteWebUrl": url} for unit_id, url in urls.items()]
        self.pages_read = 0
        self.release = asyncio.Event()
        self.release.set()

    async def list_site_protection_units(self, next_link: str, deadline: Deadline) -> GraphAnswer:
        await self.release.wait()
        self.pages_read += 1
        start = int(next_link.rpartition("=")[2] or "0")
        body: dict[str, Any] = {"value": self.units[start : start + 2]}
        if start + 2 < len(self.units):
            body["@odata.nextLink"] = f"https://graph/siteProtectionUnits?$skiptoken={start + 2}"
        return GraphAnswer(body, 200, "", "")


def call_of(own_units: frozenset[str] | None = None) -> Call:
    return Call(
        method="FindSiteProtectionUnit", peer="", deadline=Deadline(None), own_units=own_units
    )


def request(url: str) -> Any:
    return sharepoint_pb.FindSiteProtectionUnitRequest(site_web_url=url)


SITES = {
    "u1": LEGAL,
    "u2": "https://contoso.sharepoint.com/sites/hr",
    "u3": "https://contoso.sharepoint.com/sites/it",
}


def test_calls_that_miss_together_share_one_listing_and_a_known_site_needs_none() -> None:
    async def scenario() -> tuple[list[Any], int, int]:
        graph, sites = Graph(SITES), SiteDirectory()
        graph.release.clear()
        asked = [
            asyncio.ensure_future(sites.find(graph, request(url), call_of()))  # type: ignore[arg-type]
            for url in SITES.values()
        ]
        await asyncio.sleep(0)
        graph.release.set()
        found = await asyncio.gather(*asked)
        listed = graph.pages_read
        await sites.find(graph, request(LEGAL + "/"), call_of())  # type: ignore[arg-type]
        return found, listed, graph.pages_read

    found, listed, after = asyncio.run(scenario())
    assert [[u.id for u in f.protection_units] for f in found] == [["u1"], ["u2"], ["u3"]]
    assert listed == after == 2  # one listing of two pages


def test_a_site_outside_the_callers_units_costs_what_an_unknown_one_costs() -> None:
    """Right after a listing both are answered from it; once it is MISSES_FRESH_S old,
    both list afresh: same cost, same words, and never a listing per refused lookup."""

    async def scenario() -> list[tuple[str, int]]:
        now = [1000.0]
        graph, sites = Graph(SITES), SiteDirectory(clock=lambda: now[0])
        bound = call_of(frozenset({"u1"}))
        await sites.find(graph, request(LEGAL), bound)  # type: ignore[arg-type]
        seen = []
        for wait_s in (0.0, MISSES_FRESH_S + 0.1):
            for url in (SITES["u2"], "https://contoso.sharepoint.com/sites/nobody"):
                now[0] += wait_s
                before = graph.pages_read
                with pytest.raises(SiteNotFound) as refused:
                    await sites.find(graph, request(url), bound)  # type: ignore[arg-type]
                words = str(refused.value).replace(url, "<url>")
                seen.append((words, graph.pages_read - before))
        return seen

    words = "no protected site of the caller's at '<url>'"
    fresh_outside, fresh_unknown, old_outside, old_unknown = asyncio.run(scenario())
    assert fresh_outside == fresh_unknown == (words, 0)
    assert old_outside == old_unknown == (words, 2)


def test_a_list_without_urls_is_told_as_withheld() -> None:
    graph = Graph({"u1": ""})
    with pytest.raises(SiteUrlsWithheld):
        asyncio.run(SiteDirectory().find(graph, request(LEGAL), call_of()))  # type: ignore[arg-type]
