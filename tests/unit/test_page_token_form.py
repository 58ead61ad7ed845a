"""Page tokens (restore/page_tokens.py) as an attacker holding one would try them: the
exact form, the binding of caller and list without ambiguity, every byte signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from graphrestore_gateway.restore.page_tokens import (
    DEFAULT_PAGE_SIZE,
    MAX_TOKEN_CHARS,
    BadPageToken,
    PageTokens,
    continuation,
    page_query,
)

KEY = b"k" * 32
tokens = PageTokens(KEY)
GRAPH = "https://graph.microsoft.com/v1.0/solutions/backupRestore/restoreSessions"


def decoded(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_a_token_is_hmac_sha256_of_caller_list_and_continuation_then_the_continuation() -> None:
    token = tokens.issue(f"{GRAPH}?$skiptoken=abc", "alice", "sessions")
    raw = decoded(token)
    payload = b'{"$skiptoken":"abc"}'
    signed = json.dumps(["alice", "sessions"]).encode() + b"\0" + payload
    assert raw == hmac.new(KEY, signed, hashlib.sha256).digest() + payload
    assert "=" not in token and "+" not in token and "/" not in token


@pytest.mark.parametrize(
    ("next_link", "options"),
    [
        (f"{GRAPH}?$skiptoken=abc%3D", {"$skiptoken": "abc="}),
        (f"{GRAPH}?$skip=100", {"$skip": "100"}),
        (f"{GRAPH}?$top=5&$skip=10&$filter=status eq 'x'&$select=id", {"$skip": "10"}),
        (f"{GRAPH}?$expand=a&$orderby=b", {}),
        (f"{GRAPH}", {}),
        ("", {}),
        (None, {}),
        (42, {}),
        ({"$skiptoken": "x"}, {}),
    ],
)
def test_only_graphs_continuation_is_kept_of_a_next_link(
    next_link: object, options: dict[str, str]
) -> None:
    assert continuation(next_link) == options


def test_a_next_link_to_another_host_gives_only_its_continuation() -> None:
    """The gateway never follows a next link: a token carries no URL, so a next link
    pointing elsewhere cannot send the gateway's token there."""
    token = tokens.issue("https://evil.example/steal?$skiptoken=t", "alice", "sessions")
    assert tokens.query(0, token, "alice", "sessions") == {
        "$skiptoken": "t",
        "$top": str(DEFAULT_PAGE_SIZE),
    }
    assert b"evil" not in decoded(token)


@pytest.mark.parametrize(
    ("page_size", "options", "query"),
    [
        (0, {}, {"$top": "100"}),
        (7, {}, {"$top": "7"}),
        (1000, {"$skip": "3"}, {"$skip": "3", "$top": "1000"}),
    ],
)
def test_page_queries_carry_the_page_size_or_the_default(
    page_size: int, options: dict[str, str], query: dict[str, str]
) -> None:
    assert page_query(page_size, options) == query


def test_the_first_page_needs_no_token() -> None:
    assert tokens.query(5, "", "anyone", "anything") == {"$top": "5"}


@pytest.mark.parametrize(
    ("issued_to", "used_by"),
    [
        (("alice", "sessions"), ("alice", "sessions ")),
        (("alice", "artifacts:s-1"), ("alice", "artifacts:s-2")),
        (("a", "b\0c"), ("a\0b", "c")),  # the boundary between them cannot move
        (('a","b', "c"), ("a", 'b","c')),
        (("alice", "sessions"), ("Alice", "sessions")),
    ],
)
def test_a_token_is_bound_to_exactly_its_caller_and_list(
    issued_to: tuple[str, str], used_by: tuple[str, str]
) -> None:
    token = tokens.issue(f"{GRAPH}?$skiptoken=abc", *issued_to)
    assert tokens.query(5, token, *issued_to)["$skiptoken"] == "abc"
    with pytest.raises(BadPageToken):
        tokens.query(5, token, *used_by)


def test_every_byte_of_a_token_is_signed() -> None:
    raw = decoded(tokens.issue(f"{GRAPH}?$skip=10", "alice", "sessions"))
    for index in range(len(raw)):
        changed = bytearray(raw)
        changed[index] ^= 0x01
        forged = base64.urlsafe_b64encode(bytes(changed)).decode().rstrip("=")
        with pytest.raises(BadPageToken):
            tokens.query(5, forged, "alice", "sessions")


def test_a_continuation_cannot_be_swapped_between_tokens() -> None:
    first = decoded(tokens.issue(f"{GRAPH}?$skip=10", "alice", "sessions"))
    second = decoded(tokens.issue(f"{GRAPH}?$skip=99990", "alice", "sessions"))
    spliced = base64.urlsafe_b64encode(first[:32] + second[32:]).decode().rstrip("=")
    with pytest.raises(BadPageToken):
        tokens.query(5, spliced, "alice", "sessions")


def test_a_token_past_the_length_limit_is_not_decoded() -> None:
    with pytest.raises(BadPageToken, match="too long"):
        tokens.query(5, "A" * (MAX_TOKEN_CHARS + 1), "alice", "sessions")
    with pytest.raises(BadPageToken, match="not issued"):
        tokens.query(5, "A" * MAX_TOKEN_CHARS, "alice", "sessions")


@pytest.mark.parametrize("token", ["\u00e9\u00e9\u00e9\u00e9", "a b c d", "AAAA", "A", "-_-_"])
def test_garbage_is_a_bad_token_not_a_crash(token: str) -> None:
    with pytest.raises(BadPageToken):
        tokens.query(5, token, "alice", "sessions")


def test_a_token_inside_a_graph_page_carries_its_continuation_and_how_far_in() -> None:
    """The sessions list ends a caller's page inside one of Graph's: the token resumes
    there, signed and bound as any other (the first Graph page too, whose continuation
    is empty)."""
    inside = tokens.issue_within({"$skiptoken": "abc"}, 3, "alice", "sessions")
    assert tokens.position(inside, "alice", "sessions") == ({"$skiptoken": "abc"}, 3)
    assert tokens.query(5, inside, "alice", "sessions") == {"$skiptoken": "abc", "$top": "5"}
    first = tokens.issue_within({}, 2, "alice", "sessions")
    assert first and tokens.position(first, "alice", "sessions") == ({}, 2)
    assert tokens.position("", "alice", "sessions") == ({}, 0)
    with pytest.raises(BadPageToken):
        tokens.position(inside, "bob", "sessions")
