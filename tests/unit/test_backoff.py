"""How long the gateway waits before sending a failed Graph request again, and how it
reads Graph's Retry-After."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
from graphrestore_gateway.graph.backoff import MAX_RETRY_AFTER_S, Backoff, honoured_retry_after_s
from graphrestore_gateway.graph.errors import parse_retry_after


def test_without_retry_after_the_wait_starts_at_3_s_and_doubles_with_jitter() -> None:
    backoff = Backoff()
    for attempt, least_s in [(1, 3.0), (2, 6.0), (3, 12.0), (4, 24.0)]:
        waits = [backoff.wait_s(attempt, None) for _ in range(200)]
        assert min(waits) >= least_s
        assert max(waits) <= least_s * 1.25
        # Calls that failed together do not all come back together.
        assert len(set(waits)) > 100


def test_no_wait_is_longer_than_the_cap() -> None:
    assert Backoff(base_s=3.0, cap_s=10.0).wait_s(10, None) <= 10.0 * 1.25


def test_graphs_retry_after_is_the_wait_whatever_the_attempt() -> None:
    assert Backoff().wait_s(1, 2.128) == 2.128
    assert Backoff().wait_s(3, 0.0) == 0.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2.128", 2.128), ("10", 10.0), ("0", 0.0), ("-1", None), ("nan", None), ("inf", None)],
)
def test_retry_after_in_seconds_fractional_or_not(header: str, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_as_an_http_date_is_the_seconds_until_then() -> None:
    now = parsedate_to_datetime("Wed, 21 Oct 2026 07:27:55 GMT").timestamp()
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=now) == 5.0
    # RFC 9110's obsolete forms are dates too.
    assert parse_retry_after("Wednesday, 21-Oct-26 07:28:00 GMT", now=now) == 5.0
    assert parse_retry_after("Wed Oct 21 07:28:00 2026", now=now) == 5.0


def test_a_date_already_past_means_at_once_and_garbage_is_ignored() -> None:
    now = parsedate_to_datetime("Wed, 21 Oct 2026 07:28:00 GMT").timestamp()
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("2026-10-21T07:28:00", now=now) is None


def test_graphs_retry_after_is_honoured_up_to_a_minute() -> None:
    """A 429 pauses every caller: one answer asking for a day must not stop them all."""
    assert honoured_retry_after_s(2.128) == 2.128
    assert honoured_retry_after_s(86400.0) == MAX_RETRY_AFTER_S == 60.0
    assert honoured_retry_after_s(None) is None
