"""The restore point -> unit cache (access/facts.py): Graph's "no such point" is
remembered as long as a known point is within its time, so a refusal costs the same
whether the point exists or not."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from graphrestore_gateway.access.facts import UNKNOWN_POINT_FOR_S, UnitCache


class SharedUnits:
    """The request store's part the cache uses: units the replicas share."""

    def __init__(self) -> None:
        self.units: dict[str, str] = {}

    async def known_units(self, restore_point_ids: list[str]) -> dict[str, str]:
        return {p: self.units[p] for p in restore_point_ids if p in self.units}

    async def remember_units(self, units: dict[str, str]) -> None:
        self.units.update(units)


def test_a_point_graph_does_not_know_is_answered_from_the_cache_until_its_time_ends() -> None:
    now = [1000.0]
    cache = UnitCache(cast(Any, SharedUnits()), clock=lambda: now[0])

    async def story() -> None:
        await cache.learned({"rp-known": "unit-a"}, ["rp-nowhere"])
        assert await cache.known(["rp-known", "rp-nowhere", "rp-new"]) == {
            "rp-known": "unit-a",
            "rp-nowhere": "",
        }
        now[0] += UNKNOWN_POINT_FOR_S
        # Asked of Graph again: it may have appeared since.
        assert await cache.known(["rp-known", "rp-nowhere"]) == {"rp-known": "unit-a"}

    asyncio.run(story())
