"""A 429's pause holds every request of the tenant's budget, and the wait it made is
counted as throttling (not as the budget's own pacing)."""

from __future__ import annotations

import asyncio

from graphrestore_gateway import metrics
from graphrestore_gateway.graph.budget import FairShare, LocalBudget
from graphrestore_gateway.graph.deadline import Deadline

NO_DEADLINE = Deadline(None)


def throttled_s() -> float:
    return metrics.REGISTRY.get_sample_value("graphrestore_graph_throttled_seconds_total") or 0.0


def pause_in_force_s() -> float:
    return metrics.REGISTRY.get_sample_value("graphrestore_graph_pause_seconds") or 0.0


def test_a_pause_holds_the_next_request_and_is_counted_as_throttling() -> None:
    async def scenario() -> None:
        budget = FairShare(LocalBudget(rate_per_s=1000, burst=10), max_waiting_per_caller=8)
        before = throttled_s()
        await budget.pause(0.2)
        assert 0 < pause_in_force_s() <= 0.2
        # Another caller's request meets the pause ordered for the first one's 429.
        await budget.take(NO_DEADLINE, "bystander")
        assert 0 < throttled_s() - before <= 0.2
        # Once over, requests go at once and nothing more is counted.
        counted = throttled_s()
        await budget.take(NO_DEADLINE, "bystander")
        assert throttled_s() == counted

    asyncio.run(scenario())


def test_pacing_without_a_pause_is_not_throttling() -> None:
    async def scenario() -> None:
        budget = FairShare(LocalBudget(rate_per_s=20, burst=1), max_waiting_per_caller=8)
        before = throttled_s()
        for _ in range(3):
            await budget.take(NO_DEADLINE, "caller")
        assert throttled_s() == before

    asyncio.run(scenario())
