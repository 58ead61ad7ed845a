"""Opaque page tokens over Graph's @odata.nextLink.

A token carries only the OData query options of Graph's next link ($skiptoken, $top...),
never its URL: the gateway rebuilds the request on its own path, so a caller's token
cannot make it fetch anything else."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, urlsplit

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_TOKEN_CHARS = 2048


class BadPageToken(ValueError):
    """The token was not made by this gateway."""


def page_token_from_next_link(next_link: object) -> str:
    """Graph's next link -> the caller's next_page_token ("" when there is no next page)."""
    if not isinstance(next_link, str) or not next_link:
        return ""
    options = {k: v for k, v in parse_qsl(urlsplit(next_link).query) if k.startswith("$")}
    return base64.urlsafe_b64encode(json.dumps(options, sort_keys=True).encode()).decode()


def query_for_page(page_size: int, page_token: str) -> dict[str, str]:
    """The OData query for a page: the token's options, with the caller's page size."""
    options: dict[str, str] = {}
    if page_token:
        if len(page_token) > MAX_TOKEN_CHARS:
            raise BadPageToken("page_token is too long")
        try:
            decoded = json.loads(base64.urlsafe_b64decode(page_token.encode()))
        except ValueError:
            raise BadPageToken("page_token was not issued by this gateway") from None
        if not isinstance(decoded, dict) or not all(
            isinstance(k, str) and k.startswith("$") and isinstance(v, str)
            for k, v in decoded.items()
        ):
            raise BadPageToken("page_token was not issued by this gateway")
        options.update(decoded)
    options["$top"] = str(page_size or DEFAULT_PAGE_SIZE)
    return options
