"""Group commit: writes of concurrent calls share one durable commit. What arrives while
a commit runs (in a worker thread) goes into the next one; each caller's await returns
only once its own write is committed, so nothing is promised earlier than before, it is
only fsync'd together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# commit(items) -> one result (or the exception it raised) per item, in order.
Commit = Callable[[list[Item]], list[Result | BaseException]]


class GroupCommit(Generic[Item, Result]):
    def __init__(self, commit: Commit[Item, Result]) -> None:
        self._commit = commit
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Write `item` with whatever else is waiting; its result once committed."""
        [result] = await self.submit_all([item])
        return result

    async def submit_all(self, items: list[Item]) -> list[Result]:
        """Write `items` in the same commit; their results once committed (the first
        failure is raised)."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Result]] = [loop.create_future() for _ in items]
        self._pending.extend(zip(items, futures, strict=True))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        # Shielded: a cancelled caller's write is still committed (and so answered).
        return list(await asyncio.shield(asyncio.gather(*futures)))

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await asyncio.to_thread(self._commit, [item for item, _ in batch])
            except BaseException as exc:  # the commit itself failed: every write with it
                results = [exc] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
