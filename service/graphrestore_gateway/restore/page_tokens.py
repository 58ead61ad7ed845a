"""Page tokens over Graph's @odata.nextLink: authenticated, bound to one caller and one list.

A token carries only Graph's continuation ($skiptoken or $skip) of the next link, never
its URL or any other option: the gateway rebuilds the request on its own path with its
own options. A list that reads Graph in pages larger than the caller's (sessions) may
also end a caller's page inside one of Graph's: its token then carries the continuation
that Graph page was asked with and how many of its items the caller has been through
(OFFSET). An HMAC over (caller, list, token) makes a changed token, or one issued to
another caller or for another list, worthless."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlsplit

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_TOKEN_CHARS = 2048
# The only options of Graph's next link a token carries.
CONTINUATION_OPTIONS = ("$skiptoken", "$skip")
# Items of the Graph page a token points at that the caller has been through.
OFFSET = "@offset"


class BadPageToken(ValueError):
    """The token was not issued by this gateway for this caller and list."""


def continuation(next_link: object) -> dict[str, str]:
    """The continuation options of Graph's next link ({} when there is no next page)."""
    if not isinstance(next_link, str) or not next_link:
        return {}
    query = dict(parse_qsl(urlsplit(next_link).query))
    return {name: query[name] for name in CONTINUATION_OPTIONS if name in query}


def page_query(page_size: int, options: dict[str, str]) -> dict[str, str]:
    """The OData query for a page: a continuation with the page size."""
    return {**options, "$top": str(page_size or DEFAULT_PAGE_SIZE)}


class PageTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, caller: str, listing: str, payload: bytes) -> bytes:
        message = json.dumps([caller, listing]).encode() + b"\0" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def issue(self, next_link: object, caller: str, listing: str) -> str:
        """The caller's next_page_token for Graph's next link ("" on the last page).
        `listing` names the list (e.g. a session's artifacts) the token continues."""
        options = continuation(next_link)
        if not options:
            return ""
        return self._signed(options, caller, listing)

    def issue_within(self, options: dict[str, str], offset: int, caller: str, listing: str) -> str:
        """A next_page_token for a place inside one of Graph's pages: the continuation
        that page was asked with ({} for the first) and the items of it already gone
        through (`offset`)."""
        return self._signed({**options, OFFSET: str(offset)}, caller, listing)

    def _signed(self, fields: dict[str, str], caller: str, listing: str) -> str:
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        return _encoded(self._mac(caller, listing, payload) + payload)

    def query(self, page_size: int, page_token: str, caller: str, listing: str) -> dict[str, str]:
        """The OData query for the page a token (or "" for the first) points at."""
        options, _ = self.position(page_token, caller, listing)
        return page_query(page_size, options)

    def position(self, page_token: str, caller: str, listing: str) -> tuple[dict[str, str], int]:
        """(Graph's continuation, items of that Graph page already gone through) that a
        token (or "" for the first page) points at."""
        if not page_token:
            return {}, 0
        if len(page_token) > MAX_TOKEN_CHARS:
            raise BadPageToken("is too long")
        try:
            raw = base64.urlsafe_b64decode(page_token + "=" * (-len(page_token) % 4))
        except ValueError:
            raise BadPageToken("was not issued by this gateway") from None
        # The decoder forgives padding, stray characters and unused bits: a token is
        # taken only in the one form the gateway issues.
        if _encoded(raw) != page_token:
            raise BadPageToken("was not issued by this gateway")
        mac, payload = raw[:32], raw[32:]
        if not hmac.compare_digest(mac, self._mac(caller, listing, payload)):
            raise BadPageToken("was not issued by this gateway to this caller for this list")
        fields = json.loads(payload)
        options = {name: fields[name] for name in CONTINUATION_OPTIONS if name in fields}
        return options, int(fields.get(OFFSET, "0"))


def _encoded(token: bytes) -> str:
    """A token as callers see it: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(token).decode().rstrip("=")
