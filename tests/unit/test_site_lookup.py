"""restore/site_lookup.py: which site URLs are asked of Graph, and when two name one site."""

from __future__ import annotations

import pytest
from graphrestore_gateway.restore.site_lookup import (
    MAX_SITE_URL_CHARS,
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
