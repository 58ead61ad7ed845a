"""The tenant's Graph request budget: one token bucket (GCRA) shared by every caller and,
through Redis, by every replica. A 429's Retry-After pauses the whole bucket (Graph's
limits are the tenant's, shared by every app: one caller's 429 is everyone's); a request
that could not start before its deadline is refused at once instead of waiting in vain."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Protocol

from redis.asyncio import Redis

from graphrestore_gateway import metrics
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import THROTTLE_BUDGET_EXHAUSTED, GraphError
from graphrestore_gateway.group_commit import RedisPipeline


class Budget(Protocol):
    async def take(self, deadline: Deadline) -> float:
        """Wait for this request's turn; GraphError if the turn comes after the deadline.
        Returns the seconds of the wait that a pause Graph ordered (`pause`) made."""

    async def pause(self, seconds: float) -> None:
        """Graph said to wait: nobody sends for `seconds`."""


def _exhausted(wait_s: float) -> GraphError:
    return GraphError(
        THROTTLE_BUDGET_EXHAUSTED,
        f"the tenant's Graph budget has no room before the deadline (next in {wait_s:.1f}s)",
        source="gateway",
        retry_after_s=wait_s,
    )


class LocalBudget:
    """For one replica: the bucket lives in this process."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self._interval = 1.0 / rate_per_s
        self._tolerance = (burst - 1) * self._interval
        self._theoretical_arrival = 0.0
        self._paused_until = 0.0
        metrics.BUDGET_LEVEL.set_function(self.available)

    def available(self) -> float:
        """Requests that could start at once now (0 while paused)."""
        now = time.monotonic()
        if now < self._paused_until:
            return 0.0
        backlog_s = max(0.0, self._theoretical_arrival - now)
        return max(0.0, (self._tolerance - backlog_s) / self._interval + 1)

    async def take(self, deadline: Deadline) -> float:
        now = time.monotonic()
        arrival = max(self._theoretical_arrival, now)
        start = max(arrival - self._tolerance, self._paused_until, now)
        wait_s = start - now
        if not deadline.allows(wait_s):
            raise _exhausted(wait_s)
        self._theoretical_arrival = max(arrival, start) + self._interval
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        return max(0.0, self._paused_until - now)

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)


# KEYS[1]: the bucket. ARGV: interval, tolerance, max wait (-1: none). Returns the wait and
# the pause's share of it in microseconds, "WAIT PAUSED" (a string: floats do not survive
# Redis), or -1 when the wait exceeds max wait.
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1e6
local interval, tolerance, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
local arrival = math.max(tat, now)
local start = math.max(arrival - tolerance, paused, now)
local wait = start - now
if max_wait >= 0 and wait > max_wait then return '-1' end
redis.call('HSET', KEYS[1], 'tat', tostring(math.max(arrival, start) + interval))
redis.call('EXPIRE', KEYS[1], 3600)
local paused_wait = math.max(0, paused - now)
return tostring(math.floor(wait * 1e6)) .. ' ' .. tostring(math.floor(paused_wait * 1e6))
"""
_PAUSE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1e6
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
redis.call('HSET', KEYS[1], 'paused_until', tostring(math.max(paused, now + tonumber(ARGV[1]))))
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""


class RedisBudget:
    """For several replicas: the bucket is one Redis hash, changed only by atomic scripts
    that read Redis's own clock."""

    def __init__(self, redis: Redis, tenant_id: str, rate_per_s: float, burst: int) -> None:
        self._key = f"graphrestore:budget:{tenant_id}"
        self._interval = 1.0 / rate_per_s
        self._tolerance = (burst - 1) * self._interval
        self._commands = RedisPipeline(redis)
        self._pause = redis.register_script(_PAUSE)

    async def take(self, deadline: Deadline) -> float:
        remaining = deadline.remaining_s()
        max_wait = -1.0 if remaining is None else remaining
        # Takes of concurrent calls share a round trip (each is its own script run).
        answer = await self._commands.run(
            "EVAL", _TAKE, 1, self._key, self._interval, self._tolerance, max_wait
        )
        wait_us, _, paused_us = answer.decode().partition(" ")
        if int(wait_us) < 0:
            raise _exhausted(max_wait)
        if int(wait_us):
            await asyncio.sleep(int(wait_us) / 1e6)
        return int(paused_us) / 1e6

    async def pause(self, seconds: float) -> None:
        await self._pause(keys=[self._key], args=[seconds])


class FairShare:
    """Each caller may have only so many calls waiting for the budget on this replica;
    beyond that its next call is refused at once, so one noisy caller cannot fill the
    queue in front of everyone else."""

    def __init__(self, budget: Budget, max_waiting_per_caller: int) -> None:
        self._budget = budget
        self._max_waiting = max_waiting_per_caller
        self._waiting: Counter[str] = Counter()
        # When the pause last seen in force ends (ordered here, or by another replica
        # through Redis and seen by a take): the gauge of the pause in force.
        self._paused_until = 0.0
        metrics.GRAPH_PAUSE_SECONDS.set_function(
            lambda: max(0.0, self._paused_until - time.monotonic())
        )

    async def take(self, deadline: Deadline, caller: str) -> None:
        """Wait for the budget as `caller`, unless it already has its share waiting."""
        if self._waiting[caller] >= self._max_waiting:
            metrics.BUDGET_REFUSALS.inc()
            raise GraphError(
                THROTTLE_BUDGET_EXHAUSTED,
                f"{self._max_waiting} calls of this caller already wait for the Graph budget",
                source="gateway",
                retry_after_s=1.0,
            )
        self._waiting[caller] += 1
        started = time.monotonic()
        try:
            paused_s = await self._budget.take(deadline)
        except GraphError:
            metrics.BUDGET_REFUSALS.inc()
            raise
        finally:
            self._waiting[caller] -= 1
        metrics.BUDGET_WAIT_SECONDS.observe(time.monotonic() - started)
        if paused_s:
            metrics.GRAPH_THROTTLED_SECONDS.inc(paused_s)
            self._seen_paused(started + paused_s)

    async def pause(self, seconds: float) -> None:
        """Graph throttled the tenant: nobody, on any replica sharing the budget, sends
        for `seconds`."""
        self._seen_paused(time.monotonic() + seconds)
        await self._budget.pause(seconds)

    def _seen_paused(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)
