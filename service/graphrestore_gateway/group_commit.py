"""Group commit: writes of concurrent calls share one durable commit. What arrives while
a commit runs goes into the next one; each caller's await returns only once its own
write is committed, so nothing is promised earlier than before, it is only fsync'd
together.

Every commit of the process (request records, audit appends) runs on one writer thread:
commits never wait on each other's fsync in the kernel, and handing a batch over costs a
queue put and one wake-up of the event loop, not an executor's bookkeeping."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# commit(items) -> one result (or the exception it raised) per item, in order.
Commit = Callable[[list[Item]], list[Result | BaseException]]
# Runs on the event loop with what the commit returned, or the exception it raised.
Settle = Callable[[Any], None]


class WriterThread:
    """One daemon thread running commits in the order they are handed over."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.AbstractEventLoop, Settle]]
        self._jobs = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="group-commit", daemon=True)
        self._thread.start()

    def run(self, job: Callable[[], Any], settle: Settle) -> None:
        """Run `job` on the writer thread, then `settle(result or exception)` on this
        event loop."""
        self._jobs.put((job, asyncio.get_running_loop(), settle))

    def _work(self) -> None:
        while True:
            job, loop, settle = self._jobs.get()
            try:
                outcome = job()
            except BaseException as exc:  # the commit itself failed: every write with it
                outcome = exc
            # A closed loop raises RuntimeError: nobody waits for the answer any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, outcome)


WRITER = WriterThread()


class GroupCommit(Generic[Item, Result]):
    def __init__(self, commit: Commit[Item, Result]) -> None:
        self._commit = commit
        self._pending: list[tuple[list[Item], asyncio.Future[list[Result]]]] = []
        self._committing = False

    async def submit(self, item: Item) -> Result:
        """Write `item` with whatever else is waiting; its result once committed."""
        [result] = await self.submit_all([item])
        return result

    async def submit_all(self, items: list[Item]) -> list[Result]:
        """Write `items` in the same commit; their results once committed (the first
        failure is raised). A cancelled caller's write is still committed."""
        future: asyncio.Future[list[Result]] = asyncio.get_running_loop().create_future()
        self._pending.append((items, future))
        if not self._committing:
            self._commit_pending()
        return await future

    def _commit_pending(self) -> None:
        batch, self._pending = self._pending, []
        self._committing = True
        items = [item for submitted, _ in batch for item in submitted]
        WRITER.run(lambda: self._commit(items), lambda outcome: self._settle(batch, outcome))

    def _settle(
        self,
        batch: list[tuple[list[Item], asyncio.Future[list[Result]]]],
        outcome: list[Result | BaseException] | BaseException,
    ) -> None:
        start = 0
        for submitted, future in batch:
            end = start + len(submitted)
            results = (
                [outcome] * len(submitted)
                if isinstance(outcome, BaseException)
                else (outcome[start:end])
            )
            start = end
            if future.done():  # its caller was cancelled
                continue
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is not None:
                future.set_exception(failure)
            else:
                future.set_result(results)  # type: ignore[arg-type]
        self._committing = False
        if self._pending:
            self._commit_pending()
