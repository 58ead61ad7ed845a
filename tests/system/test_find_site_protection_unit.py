"""FindSiteProtectionUnit: a caller names a site by its URL and gets the site's protection
unit, written in any case, with or without a trailing slash; a caller bound to units finds
only its own sites (another is NOT_FOUND, in the same words as a URL no site has); the
policy reads the lookup as SearchRestorePoints; a URL that is not a site's never reaches
Graph."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import grpc
import pytest
from browsing import EVERY_METHOD, BrowseGateway, Rule, site_units, start_browse_gateway
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb
from helpers import error_info
from processes import Emulator, running_emulator
from test_contract import example

SITE_UNITS = "/v1.0/solutions/backupRestore/siteProtectionUnits"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with running_emulator(tmp_path_factory.mktemp("site-lookup-lab"), "--seed-sites", "150") as lab:
        yield lab


@pytest.fixture(scope="module")
def sites(lab: Emulator) -> list[dict[str, Any]]:
    """The seeded sites (the documented ones' URLs are spelt `https: //`)."""
    return [unit for unit in site_units(lab) if "/sites/site" in unit["siteWebUrl"]]


@pytest.fixture(scope="module")
def gateway(
    lab: Emulator, sites: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowseGateway]:
    rules = {
        "alice": Rule("spiffe://corp/ns/ir/sa/alice"),
        "bound": Rule("spiffe://corp/ns/hr/sa/bound", units=(sites[0]["id"],)),
        "no-search": Rule(
            "spiffe://corp/ns/ir/sa/no-search",
            methods=tuple(m for m in EVERY_METHOD if m != "SearchRestorePoints"),
        ),
    }
    started = start_browse_gateway(lab, tmp_path_factory.mktemp("site-lookup"), rules)
    yield started
    assert started.mtls.gateway.stop() == 0


@pytest.fixture
def fresh(lab: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowseGateway]:
    """A gateway of its own, that has not listed Graph's sites yet: a listing answers
    misses for a few seconds (restore/site_lookup.py MISSES_FRESH_S), so a test of what a
    miss asks of Graph starts from none."""
    rules = {"alice": Rule("spiffe://corp/ns/ir/sa/alice")}
    started = start_browse_gateway(lab, tmp_path_factory.mktemp("site-lookup-fresh"), rules)
    yield started
    assert started.mtls.gateway.stop() == 0


def find(
    gateway: BrowseGateway, caller: str, url: str
) -> sharepoint_pb.FindSiteProtectionUnitResponse:
    with gateway.stubs(caller) as stubs:
        return stubs.sharepoint.FindSiteProtectionUnit(
            sharepoint_pb.FindSiteProtectionUnitRequest(site_web_url=url), timeout=20
        )


def refused(gateway: BrowseGateway, caller: str, url: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        find(gateway, caller, url)
    return error.value


def test_a_caller_finds_a_site_by_its_url_written_any_way(
    gateway: BrowseGateway, sites: list[dict[str, Any]]
) -> None:
    site = sites[1]
    url = site["siteWebUrl"]
    for written in (url, url + "/", url.upper().replace("HTTPS://", "https://")):
        [unit] = find(gateway, "alice", written).protection_units
        assert (unit.id, unit.site_id, unit.site_web_url) == (
            site["id"],
            site["siteId"],
            url,
        )


def test_a_caller_bound_to_units_finds_only_its_own_sites_and_learns_nothing_of_others(
    gateway: BrowseGateway, lab: Emulator, sites: list[dict[str, Any]]
) -> None:
    [own] = find(gateway, "bound", sites[0]["siteWebUrl"]).protection_units
    assert own.id == sites[0]["id"]
    elsewhere = sites[2]["siteWebUrl"]
    nowhere = elsewhere.replace("/sites/", "/teams/")
    since = len(lab.journal())
    outside = refused(gateway, "bound", elsewhere)
    between = len(lab.journal())
    unknown = refused(gateway, "bound", nowhere)
    # Each is answered from the listing just made, or (were it older than a few seconds)
    # after a full one: never by what the gateway knows of the site
    # (tests/unit/test_site_lookup.py holds the clock still to show both cost the same).
    unknown_cost = len(gateway.graph_calls(between, "siteProtectionUnits"))
    outside_cost = len(gateway.graph_calls(since, "siteProtectionUnits")) - unknown_cost
    assert {outside_cost, unknown_cost} <= {0, 2}
    for error, url in ((outside, elsewhere), (unknown, nowhere)):
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert error_info(error).reason == "SITE_NOT_FOUND"
        assert error.details() == f"no protected site of the caller's at {url!r}"
    assert sites[2]["id"] not in str(outside.details()) + str(error_info(outside))
    # The caller is told the same; the audit keeps which it was.
    denied = [r for r in gateway.audit() if r["rpc"] == "FindSiteProtectionUnit"]
    assert [r["reason"] for r in denied[-2:]] == ["SITE_UNIT_NOT_THE_CALLERS", "SITE_NOT_PROTECTED"]
    assert [r["artifacts"] for r in denied[-2:]] == [
        [{"site_web_url": elsewhere}],
        [{"site_web_url": nowhere}],
    ]
    assert {r["decision"] for r in denied} == {"denied"}


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://contoso.sharepoint.com/sites/site00000",
        "https:///sites/site00000",
        "https://contoso.sharepoint.com/sites/site00000?$filter=x",
        "https://contoso.sharepoint.com/sites/" + "x" * 1024,
    ],
)
def test_a_url_that_names_no_site_never_reaches_graph(
    gateway: BrowseGateway, lab: Emulator, url: str
) -> None:
    since = len(lab.journal())
    error = refused(gateway, "alice", url)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "site_web_url" in str(error.details())
    assert not gateway.graph_calls(since, "siteProtectionUnits")


def test_a_caller_that_may_not_search_may_not_map_urls_to_units(
    gateway: BrowseGateway, lab: Emulator, sites: list[dict[str, Any]]
) -> None:
    since = len(lab.journal())
    error = refused(gateway, "no-search", sites[0]["siteWebUrl"])
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(error).reason == "METHOD_NOT_ALLOWED"
    assert "SearchRestorePoints" in str(error.details())
    assert not gateway.graph_calls(since, "siteProtectionUnits")


def test_every_page_of_graph_s_list_is_read_and_kept_for_the_next_calls(
    fresh: BrowseGateway, lab: Emulator, sites: list[dict[str, Any]]
) -> None:
    """More sites than Graph's page: a URL no site has reads every page afresh; a site on
    the last page is then found from that listing, without asking Graph again."""
    since = len(lab.journal())
    nowhere = refused(fresh, "alice", "https://contoso.sharepoint.com/sites/nobody")
    assert nowhere.code() == grpc.StatusCode.NOT_FOUND
    asked = fresh.graph_calls(since, "siteProtectionUnits")
    with lab.graph_client() as graph:
        next_link = graph.get("/siteProtectionUnits").json()["@odata.nextLink"]
    # The next page at Graph's next link, as given.
    assert [call["query"] for call in asked] == ["", unquote(next_link.partition("?")[2])]
    since = len(lab.journal())
    [unit] = find(fresh, "alice", sites[-1]["siteWebUrl"]).protection_units
    assert unit.id == sites[-1]["id"]
    assert not fresh.graph_calls(since, "siteProtectionUnits")


def test_microsoft_s_documented_list_is_read_as_graph_answers_it(
    fresh: BrowseGateway, lab: Emulator
) -> None:
    """The documented page (as the last page): unit ids repeat, times are broken; each
    URL still finds its one unit."""
    documented = copy.deepcopy(example("sharepoint-list-site-protection-units.response-200.json"))
    del documented["@odata.nextLink"]
    lab.fault(kind="status", method="GET", path=f"{SITE_UNITS}$", status=200, body=documented)
    [unit] = find(fresh, "alice", "https://contoso.sharepoint.com/teams/eridctwo/").protection_units
    assert (unit.id, unit.site_name) == (
        "9b014d8c-71fe-4d00-a01a-31850bc5b32c",
        "Enhanced Restore IDC - 2",
    )


def test_the_emulator_filters_site_units_by_no_property(
    lab: Emulator, sites: list[dict[str, Any]]
) -> None:
    """No page documents a filter on siteProtectionUnits: refused, never guessed at."""
    url = sites[0]["siteWebUrl"]
    with lab.graph_client() as graph:
        filtered = graph.get("/siteProtectionUnits", params={"$filter": f"siteWebUrl eq '{url}'"})
    assert filtered.status_code == 400, filtered.text
    assert filtered.json()["error"]["code"] == "BadRequest"


def test_a_list_without_site_urls_is_told_as_that_not_as_no_such_site(
    fresh: BrowseGateway, lab: Emulator
) -> None:
    """Were Graph to keep siteWebUrl from an app (a later rendering of the page says it
    is for delegated callers only), the caller is told to name the unit by id."""
    documented = copy.deepcopy(example("sharepoint-list-site-protection-units.response-200.json"))
    del documented["@odata.nextLink"]
    for unit in documented["value"]:
        del unit["siteWebUrl"], unit["siteName"]
    lab.fault(kind="status", method="GET", path=f"{SITE_UNITS}$", status=200, body=documented)
    error = refused(fresh, "alice", "https://contoso.sharepoint.com/sites/elsewhere")
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "SITE_URLS_WITHHELD"
    assert "by id" in str(error.details())
