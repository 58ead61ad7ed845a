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

from typing import Any
from urllib.parse import unquote, urlsplit

from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb

from graphrestore_gateway.exceptions import SiteNotFound, SiteUrlsWithheld
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.restore import convert
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.restore.page_tokens import continuation
from graphrestore_gateway.restore.validation import Violation

FIELD = "site_web_url"
MAX_SITE_URL_CHARS = 1024


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


async def find(graph: GraphClient, request: Any, call: Call) -> Any:
    """Every unit Graph lists with the request's URL that the caller may see; SiteNotFound
    when there is none (in the same words whether or not another caller could see one)."""
    wanted = normalized(request.site_web_url)
    found: dict[str, pb.ProtectionUnit] = {}
    listed = with_urls = 0
    options: dict[str, str] = {}
    while True:
        answer = await graph.list_site_protection_units(options, call.deadline)
        for body in convert.collection(answer.body, dict):
            unit = convert.protection_unit_from_graph(body)
            listed += 1
            with_urls += bool(unit.site_web_url)
            if unit.id and unit.site_web_url and normalized(unit.site_web_url) == wanted:
                found.setdefault(unit.id, unit)
        options = continuation(answer.body.get("@odata.nextLink"))
        if not options:
            break
    if listed and not with_urls:
        raise SiteUrlsWithheld()
    if not found:
        raise SiteNotFound(request.site_web_url, "SITE_NOT_PROTECTED")
    visible = [u for u in found.values() if call.own_units is None or u.id in call.own_units]
    if not visible:
        raise SiteNotFound(request.site_web_url, "SITE_UNIT_NOT_THE_CALLERS")
    return sharepoint_pb.FindSiteProtectionUnitResponse(protection_units=visible)
