"""The refused-call budget: how many of its calls one caller may have refused (invalid,
denied; calls without valid credentials count against their peer address) before its
calls are turned away unread for a while, with RESOURCE_EXHAUSTED and RetryInfo (the
pipeline does that, rpc/pipeline.py).

A refused call never reaches Graph, but it costs the gateway's event loop (validation,
the policy, an audit record), which every caller shares: one caller's flood of invalid
requests slowed every other caller's creates tenfold. A token bucket per caller, kept in
this process: refusals never reach Graph, so replicas need not share the budget; each
protects its own event loop (a caller spread over N replicas has N budgets)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from graphrestore_gateway.exceptions import (
    Denied,
    InvalidRequest,
    SessionNotFound,
    Unauthenticated,
)

# What a caller is charged for: its own mistakes and what the policy refused.
CHARGED = (InvalidRequest, Denied, SessionNotFound, Unauthenticated)
# Buckets kept at most (least recently used dropped first): a dropped bucket is a full
# one again, which only a flood from more callers or addresses than this gets.
MAX_BUCKETS = 10_000
# ("caller", id) or ("peer", address): a caller's id can be any text a JWT names.
Key = tuple[str, str]


def key_of(caller: str, peer: str) -> Key:
    """The budget a call is counted against: its caller's, or without an identity its
    peer's address ("ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7": each connection has its
    own port)."""
    if caller:
        return ("caller", caller)
    return ("peer", peer.rpartition(":")[0] or peer)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RefusalBudget:
    """`per_minute` refused calls a minute per key, all of them at once at most."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = per_minute
        self._per_s = per_minute / 60
        # How often one more refusal fits into a spent budget.
        self.interval_s = 1 / self._per_s
        self._clock = clock
        self._buckets: OrderedDict[Key, _Bucket] = OrderedDict()

    def wait_s(self, key: Key) -> float:
        """0 if `key` may have one more call refused; else how long until it may."""
        bucket = self._bucket(key)
        if bucket is None or bucket.tokens >= 1:
            return 0.0
        return (1 - bucket.tokens) / self._per_s

    def charge(self, key: Key) -> None:
        """Count one refused call against `key`."""
        bucket = self._bucket(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._capacity, self._clock())
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        bucket.tokens = max(0.0, bucket.tokens - 1)

    def _bucket(self, key: Key) -> _Bucket | None:
        """The bucket of `key`, refilled to now; None if it is full (none is kept)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return None
        now = self._clock()
        bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self._per_s)
        bucket.updated = now
        if bucket.tokens >= self._capacity:
            del self._buckets[key]
            return None
        self._buckets.move_to_end(key)
        return bucket
