"""GraphError: every way a call to Entra ID or Graph can fail, as one type."""

from __future__ import annotations

import math
import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

# Where the failure happened: Graph answered with an error, Entra ID refused or could
# not be reached for a token, or the gateway itself gave up (no answer, deadline).
Source = Literal["graph", "entra", "gateway"]

# Gateway-side codes (source "gateway").
GRAPH_UNREACHABLE = "graphUnreachable"
GRAPH_ANSWER_LOST = "graphAnswerLost"
GRAPH_MALFORMED_ANSWER = "graphMalformedAnswer"
DEADLINE_EXCEEDED = "deadlineExceeded"
ENTRA_UNREACHABLE = "entraUnreachable"
AUTHORITY_REJECTED = "authorityRejected"
THROTTLE_BUDGET_EXHAUSTED = "throttleBudgetExhausted"


class GraphError(Exception):
    """A failed Graph (or token) call, with what a caller needs to decide what next."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        source: Source = "graph",
        http_status: int = 0,
        request_id: str = "",
        client_request_id: str = "",
        retry_after_s: float | None = None,
        may_have_applied: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.source = source
        self.http_status = http_status
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.retry_after_s = retry_after_s
        # True when a mutating request may have taken effect although no answer came back.
        self.may_have_applied = may_have_applied
        # What the caller needs to pick up the pieces, e.g. the id of a half-filled session.
        self.metadata = metadata or {}

    @classmethod
    def from_response(cls, response: httpx.Response, client_request_id: str) -> GraphError:
        """Parse Graph's `{"error": {...}}` body; tolerate any other body."""
        code, message = f"http{response.status_code}", response.reason_phrase
        try:
            error: Any = response.json().get("error", {})
            code = str(error.get("code") or code)
            message = str(error.get("message") or message)
        except (ValueError, AttributeError):
            pass
        return cls(
            code,
            message,
            http_status=response.status_code,
            request_id=response.headers.get("request-id", ""),
            client_request_id=response.headers.get("client-request-id", client_request_id),
            retry_after_s=parse_retry_after(response.headers.get("retry-after")),
        )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After: delay-seconds (Graph's, fractional at times) or
    an HTTP date (RFC 9110), counted from `now` (the wall clock by default). Anything
    else is ignored; a date already past means at once."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, time.time() if now is None else now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _seconds_until(http_date: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # asctime's form names no zone: GMT (RFC 9110)
    return max(0.0, when.timestamp() - now)
