"""The gateway's own refusals: a call stopped before or instead of Graph.

    Refusal                      the gateway refuses the call itself (rpc/status.py maps it)
    ├── Unauthenticated          no valid identity                -> UNAUTHENTICATED
    ├── InvalidRequest           a field breaks a rule            -> INVALID_ARGUMENT + BadRequest
    ├── Denied                   the policy says no               -> PERMISSION_DENIED
    ├── SessionNotFound          not there, or not the caller's   -> NOT_FOUND
    │   ├── BrowseSessionNotFound  a browse session, likewise
    │   └── SiteNotFound           no protected site at a URL, or not the caller's unit
    ├── Unavailable              refused for now                  -> UNAVAILABLE + RetryInfo
    │   ├── FactsUnavailable     a policy lookup failed
    │   ├── AuditUnavailable     the audit record was not written
    │   ├── StoreUnavailable     the request store (Redis) did not answer in time
    │   ├── StoreLost            the request store lost its data (Redis restarted empty)
    │   └── TooManyRefusals      the caller's refused-call budget is spent
    │                                                             -> RESOURCE_EXHAUSTED + RetryInfo
    ├── TooManyWatches           the caller's streams are at cap  -> RESOURCE_EXHAUSTED
    ├── SiteUrlsWithheld         Graph lists sites without URLs   -> FAILED_PRECONDITION
    └── UnreconcilableCreate     which draft a lost create made is unsure -> FAILED_PRECONDITION

Failures of Graph or Entra ID are `graph.errors.GraphError`, a separate type: Graph said
no, not the gateway. A replayed answer of the request records is `records.StoredAnswer`.
"""

from __future__ import annotations

from google.rpc.error_details_pb2 import BadRequest

# Refusals quote at most this much of any caller input.
MAX_QUOTED_CHARS = 128
# A caller's gRPC library drops an answer whose trailers pass 8 KB, some 60 violations:
# the call fails with RESOURCE_EXHAUSTED ("received metadata size exceeds soft limit")
# and says nothing of what was wrong. An invalid request's answer names its first
# violations and counts them all.
MAX_VIOLATIONS_NAMED = 20


def quoted(value: str) -> str:
    """A caller's input in a message: repr'd and cut to MAX_QUOTED_CHARS."""
    if len(value) <= MAX_QUOTED_CHARS:
        return repr(value)
    return repr(value[:MAX_QUOTED_CHARS]) + f"... ({len(value)} characters)"


def violations_summary(violations: list[BadRequest.FieldViolation]) -> str:
    named = "; ".join(f"{v.field} {v.description}" for v in violations[:MAX_VIOLATIONS_NAMED])
    if len(violations) <= MAX_VIOLATIONS_NAMED:
        return named
    return f"{len(violations)} violations, the first {MAX_VIOLATIONS_NAMED}: {named}"


class Refusal(Exception):
    """The gateway refuses the call; `reason` is the ErrorInfo reason (UPPER_SNAKE_CASE)."""

    reason = "REFUSED"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class Unauthenticated(Refusal):
    """The caller proved no identity; the message says why (never the credential)."""

    reason = "UNAUTHENTICATED"


class InvalidRequest(Refusal):
    """The request breaks the API's or Graph's rules; every bad field is named."""

    reason = "INVALID_REQUEST"

    def __init__(self, violations: list[BadRequest.FieldViolation]) -> None:
        super().__init__(violations_summary(violations))
        self.violations = violations


class Denied(Refusal):
    """The policy refuses the call; `reason` names the rule."""


class SessionNotFound(Refusal):
    """A session the caller may not see (another caller's, or another workload's) is
    answered like one that does not exist; `audit_reason` keeps the truth for the audit."""

    reason = "RESTORE_SESSION_NOT_FOUND"

    def __init__(self, audit_reason: str) -> None:
        super().__init__("restore session not found")
        self.audit_reason = audit_reason


class BrowseSessionNotFound(SessionNotFound):
    """A browse session the caller may not see (another caller's), answered like one
    that does not exist."""

    reason = "BROWSE_SESSION_NOT_FOUND"

    def __init__(self, audit_reason: str) -> None:
        Refusal.__init__(self, "browse session not found")
        self.audit_reason = audit_reason


class SiteNotFound(SessionNotFound):
    """No protected site has the URL asked for, or its unit is not one of the caller's:
    answered in the same words, so a caller bound to units learns nothing of others."""

    reason = "SITE_NOT_FOUND"

    def __init__(self, site_web_url: str, audit_reason: str) -> None:
        Refusal.__init__(self, f"no protected site of the caller's at {quoted(site_web_url)}")
        self.audit_reason = audit_reason


class BrowseSessionExpired(Refusal):
    """A browse session the gateway made is gone from Graph: browse sessions are deleted
    at their expiry, and their item keys with them."""

    reason = "BROWSE_SESSION_EXPIRED"

    def __init__(self, browse_session_id: str) -> None:
        super().__init__(
            f"browse session {quoted(browse_session_id)} has expired: create a new browse "
            "session and browse again to pick the items"
        )


class Unavailable(Refusal):
    """Refused for now: worth a retry after `retry_after_s` (RetryInfo)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class FactsUnavailable(Unavailable):
    """A lookup the policy needs failed: refused, never allowed, and worth a retry."""

    reason = "POLICY_FACTS_UNAVAILABLE"


class AuditUnavailable(Unavailable):
    """The call's audit record could not be written: nothing is answered unaudited. What
    the call did is in its request record, so a retry with the same request_id gets the
    first answer (audited then)."""

    reason = "AUDIT_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__(
            "the audit record could not be written, so the answer is withheld; "
            "retry with the same request_id",
            retry_after_s=5.0,
        )


class SiteUrlsWithheld(Refusal):
    """Graph listed site protection units without their siteWebUrl (a newer page says
    delegated callers only get it): no site can be found by URL, and saying "not found"
    would mislead."""

    reason = "SITE_URLS_WITHHELD"

    def __init__(self) -> None:
        super().__init__(
            "Graph lists the tenant's site protection units without their web URLs to this "
            "gateway, so no site can be found by URL: name the site protection unit by id"
        )


class TooManyWatches(Refusal):
    """The caller already holds as many open watch streams as it may."""

    reason = "TOO_MANY_WATCHES"


class UnreconcilableCreate(Refusal):
    """A retried create cannot tell which draft its interrupted attempt made: more than
    one could be it, or the one that could holds what Graph will not list, or an earlier
    request still pending could have made it (`claimed_by`, their request records).
    Refused rather than guessed (a wrong guess hands the caller a session it never
    made); the `candidates` and `claimed_by` go to the audit record for an operator,
    never to the caller."""

    def __init__(
        self, reason: str, candidates: list[str], claimed_by: list[str] | None = None
    ) -> None:
        super().__init__(
            "the interrupted create's session cannot be told apart from other drafts; "
            "nothing was adopted or created, and an operator must decide",
            reason,
        )
        self.candidates = candidates
        self.claimed_by = claimed_by or []


class TooManyRefusals(Unavailable):
    """The caller (or, without an identity, its peer address) had more calls refused
    than its budget allows: its calls are turned away unread until the budget refills."""

    reason = "TOO_MANY_REFUSALS"

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(
            "too many of this caller's calls were refused (invalid, denied or "
            "unauthenticated); calls are turned away until its budget refills",
            retry_after_s,
        )


class StoreUnavailable(Unavailable):
    """The request store (Redis) did not answer within its timeout, or could not be
    reached: the call is refused at once, not left to wait until its deadline."""

    reason = "REQUEST_STORE_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("the request store did not answer; retry later", retry_after_s=1.0)


class StoreLost(Unavailable):
    """The request store no longer holds the generation marker written at start: it lost
    its data (Redis restarted without persistence, or flushed), and with it which
    requests were served and who owns what. Nothing is changed until an operator has
    looked: a restart of the gateway marks the store anew."""

    reason = "REQUEST_STORE_LOST"

    def __init__(self) -> None:
        super().__init__(
            "the request store lost its records; nothing is changed until the gateway is "
            "restarted by its operator",
            retry_after_s=60.0,
        )
