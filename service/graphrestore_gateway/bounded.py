"""Bounds on lookups in Graph: a map that keeps only the most recent answers (facts that
never change, such as a restore point's unit), and a gather that runs only so many
lookups at once."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class BoundedMap:
    """The `size` most recently stored entries."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        return self._entries.get(key)

    def put(self, key: str, value: str) -> None:
        self._entries[key] = value
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


async def gather_bounded(
    items: Iterable[T], run: Callable[[T], Awaitable[R]], in_flight: int
) -> list[R]:
    """`run` for each item, at most `in_flight` at a time; the results in order."""
    slots = asyncio.Semaphore(in_flight)

    async def one(item: T) -> R:
        async with slots:
            return await run(item)

    return list(await asyncio.gather(*(one(item) for item in items)))
