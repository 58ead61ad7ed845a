"""A protected site found by its web URL: SharePointRestoreService.FindSiteProtectionUnit.

Graph names a site's unit by `siteWebUrl` in its siteProtectionUnits list
(graph-api-sharepoint-exchange.md). No page documents a `$filter` on that property (the
schema's generic query options say nothing of which properties filter), so the list is
read page by page and matched here. A caller bound to units finds only its own: a site
outside them is answered as one that is not protected, in the same words.

The facts sheet lists `siteWebUrl` among the unit's properties with no delegated-only
note (as `email` has for drive and mailbox units); a later rendering of Microsoft's page
says `siteName` and `siteWebUrl` come with delegated permissions only. Should Graph
withhold them from this app, a list without any URL is told as that (SiteUrlsWithheld),
never as "no such site"."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb

from graphrestore_gateway.exceptions import SiteNotFound, SiteUrlsWithheld
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.restore import convert
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.restore.validation import Violation

FIELD = "site_web_url"
MAX_SITE_URL_CHARS = 1024
# How long a listing answers for sites it holds (a site's unit rarely changes).
FRESH_S = 300.0
# How long a listing answers for URLs it does not hold, or holds outside the caller's
# units (see SiteDirectory).
MISSES_FRESH_S = 5.0


def site_url_violations(site_web_url: str) -> list[Violation]:
    """An https URL with a host, bounded, without user, query, fragment or whitespace."""
    problem = _url_problem(site_web_url)
    return [Violation(field=FIELD, description=problem)] if problem else []


def _url_problem(site_web_url: str) -> str:
    if not 0 < len(site_web_url) <= MAX_SITE_URL_CHARS:
        return f"must be 1-{MAX_SITE_URL_CHARS} characters"
    if not site_web_url.isprintable() or any(c.isspace() for c in site_web_url):
        return "must hold no whitespace or control characters"
    try:
        parts = urlsplit(site_web_url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return "must be a URL"
    if parts.scheme.lower() != "https" or not parts.hostname:
        return "must be an https URL with a host, e.g. https://contoso.sharepoint.com/sites/legal"
    if parts.username is not None or parts.query or parts.fragment or "#" in site_web_url:
        return "must name a site only: no user, query or fragment"
    return ""


def normalized(site_web_url: str) -> str:
    """The form two URLs of one site share: host and path in lower case, percent escapes
    decoded, no trailing slash, the default port dropped."""
    parts = urlsplit(site_web_url.strip())
    host = (parts.hostname or "").lower()
    if parts.port not in (None, 443):
        host += f":{parts.port}"
    path = unquote(parts.path).lower().rstrip("/")
    return f"{parts.scheme.lower()}://{host}{path}"


class SiteDirectory:
    """The tenant's site protection units by normalized URL, as Graph last listed them,
    shared by the calls of the process: listing a tenant's sites takes one Graph call per
    100 (10,000 sites: some 4 s against the emulator, far more against Graph). A call is
    answered from it when it holds a unit the caller may see, for at most FRESH_S; a
    miss (no unit at the URL, or none the caller may see) for at most MISSES_FRESH_S;
    anything older lists afresh (one listing at a time, shared by the calls waiting).

    The trade-off: a site protected since the last listing is found up to MISSES_FRESH_S
    late, and in return a caller's refused lookups (a unit-bound caller naming sites
    outside its units, or URLs no site has) cost at most one listing every
    MISSES_FRESH_S, not one each. A site outside a unit-bound caller's units costs what a
    URL no site has costs and is refused in the same words: both are told apart by
    nothing."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._by_url: dict[str, dict[str, pb.ProtectionUnit]] = {}
        self._withheld = False
        self._listed_at = -math.inf
        self._listing = asyncio.Lock()
        self._clock = clock

    def _units_at(self, url: str) -> dict[str, pb.ProtectionUnit]:
        if self._clock() - self._listed_at > FRESH_S:
            return {}
        return self._by_url.get(url, {})

    async def _relist(self, graph: GraphClient, call: Call) -> None:
        asked_at = self._clock()
        async with self._listing:
            if self._listed_at >= asked_at:
                return  # listed by another call while this one waited
            by_url: dict[str, dict[str, pb.ProtectionUnit]] = {}
            listed = with_urls = 0
            next_link = ""
            while True:
                answer = await graph.list_site_protection_units(next_link, call.deadline)
                for body in convert.collection(answer.body, dict):
                    unit = convert.protection_unit_from_graph(body)
                    listed += 1
                    with_urls += bool(unit.site_web_url)
                    if unit.id and unit.site_web_url:
                        by_url.setdefault(normalized(unit.site_web_url), {})[unit.id] = unit
                next_link = answer.body.get("@odata.nextLink") or ""
                if not isinstance(next_link, str) or not next_link:
                    break
            self._by_url, self._withheld = by_url, bool(listed) and not with_urls
            self._listed_at = self._clock()

    async def find(self, graph: GraphClient, request: Any, call: Call) -> Any:
        """Every unit Graph lists with the request's URL that the caller may see;
        SiteNotFound when there is none (in the same words whether or not another caller
        could see one)."""
        wanted = normalized(request.site_web_url)
        visible = _visible(self._units_at(wanted), call)
        if not visible:
            if self._clock() - self._listed_at > MISSES_FRESH_S:
                await self._relist(graph, call)
            if self._withheld:
                raise SiteUrlsWithheld()
            found = self._units_at(wanted)
            if not found:
                raise SiteNotFound(request.site_web_url, "SITE_NOT_PROTECTED")
            visible = _visible(found, call)
            if not visible:
                raise SiteNotFound(request.site_web_url, "SITE_UNIT_NOT_THE_CALLERS")
        return sharepoint_pb.FindSiteProtectionUnitResponse(protection_units=visible)


def _visible(units: dict[str, pb.ProtectionUnit], call: Call) -> list[pb.ProtectionUnit]:
    return [u for u in units.values() if call.own_units is None or u.id in call.own_units]
