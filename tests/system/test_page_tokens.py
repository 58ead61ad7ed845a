"""Page tokens: only Graph's continuation, signed, bound to one caller and one list."""

from __future__ import annotations

import base64
import string

import pytest
from graphrestore_gateway.restore.page_tokens import BadPageToken, PageTokens

NEXT = (
    "https://graph.microsoft.com/v1.0/solutions/backupRestore/oneDriveForBusinessRestoreSessions"
    "?$top=2&$skiptoken=abc%3D&$expand=driveRestoreArtifacts&$filter=x"
)
tokens = PageTokens(b"k" * 32)


def test_a_token_carries_only_the_continuation() -> None:
    token = tokens.issue(NEXT, "alice", "sessions")
    assert tokens.query(5, token, "alice", "sessions") == {"$skiptoken": "abc=", "$top": "5"}


def test_the_last_page_has_no_token() -> None:
    assert tokens.issue(None, "alice", "sessions") == ""
    assert tokens.issue("https://graph.microsoft.com/v1.0/x?$top=2", "alice", "sessions") == ""


@pytest.mark.parametrize(
    ("caller", "listing", "key"),
    [
        ("bob", "sessions", b"k" * 32),
        ("alice", "artifacts:s-1", b"k" * 32),
        ("alice", "sessions", b"x" * 32),
    ],
)
def test_a_token_is_worthless_to_another_caller_list_or_key(
    caller: str, listing: str, key: bytes
) -> None:
    token = tokens.issue(NEXT, "alice", "sessions")
    with pytest.raises(BadPageToken):
        PageTokens(key).query(5, token, caller, listing)


def test_a_changed_or_made_up_token_is_refused() -> None:
    raw = base64.urlsafe_b64decode(tokens.issue(NEXT, "alice", "sessions") + "==")
    changed = base64.urlsafe_b64encode(raw.replace(b"abc", b"xyz")).decode()
    made_up = base64.urlsafe_b64encode(b'{"$expand": "driveRestoreArtifacts"}').decode()
    for token in (changed, made_up, "!!!", "a" * 5000):
        with pytest.raises(BadPageToken):
            tokens.query(5, token, "alice", "sessions")


def test_only_the_form_the_gateway_issued_is_accepted() -> None:
    token = tokens.issue(NEXT, "alice", "sessions")
    altered = [token + "=", token + "==", token + "====", token + "\n"]
    # A last character whose unused low bits differ decodes to the same bytes.
    alphabet = string.ascii_letters + string.digits + "-_"
    altered += [
        token[:-1] + c
        for c in alphabet
        if c != token[-1] and _decoded(token[:-1] + c) == _decoded(token)
    ]
    assert len(altered) > 4  # the issued token has unused bits to change
    for token_in_another_form in altered:
        with pytest.raises(BadPageToken):
            tokens.query(5, token_in_another_form, "alice", "sessions")


def _decoded(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
