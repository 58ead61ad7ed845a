"""Group commit: writes of concurrent calls share one commit. What arrives while a commit
runs goes into the next one; each caller's await returns only once its own write is
committed, so nothing is promised earlier than before, it is only fsync'd (or sent to
Redis) together.

Every file commit of the process (request records in SQLite, audit appends) runs on one
writer thread: commits never wait on each other's fsync in the kernel, and handing a
batch over costs a queue put, not an executor's bookkeeping; the outcomes of the jobs
that waited together (a batch of records and one of audit lines) share one wake-up of
the event loop. Redis commands of concurrent calls go in one pipeline (RedisPipeline)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis

Item = TypeVar("Item")
Result = TypeVar("Result")
Outcome = TypeVar("Outcome")

# commit(items) -> one result (or the exception it raised) per item, in order.
Commit = Callable[[list[Item]], Awaitable[list[Result | BaseException]]]


class WriterThread:
    """One daemon thread running jobs in the order they are handed over."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]]]
        self._jobs = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="group-commit", daemon=True)
        self._thread.start()

    def run(self, job: Callable[[], Outcome]) -> asyncio.Future[Outcome]:
        """`job()` run on the writer thread: its result, or the exception it raised."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._jobs.put((job, future))
        return future

    def _work(self) -> None:
        while True:
            # Every job waiting now (a batch of records and one of audit lines, say),
            # then one wake-up of each loop for all of their outcomes.
            jobs = [self._jobs.get()]
            with contextlib.suppress(queue.Empty):
                while True:
                    jobs.append(self._jobs.get_nowait())
            settled: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]]
            settled = {}
            for job, future in jobs:
                try:
                    outcome = job()
                except BaseException as exc:
                    outcome = exc
                settled.setdefault(future.get_loop(), []).append((future, outcome))
            for loop, outcomes in settled.items():
                # A closed loop raises RuntimeError: nobody waits for the answer any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_resolve, outcomes)


def _resolve(outcomes: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, outcome in outcomes:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


@functools.cache
def writer_thread() -> WriterThread:
    """The process's writer thread, started when first asked for."""
    return WriterThread()


def on_writer_thread(
    commit: Callable[[list[Item]], list[Result | BaseException]],
) -> Commit[Item, Result]:
    """A blocking commit (SQLite, a file append with fsync) run on the writer thread."""
    return lambda items: writer_thread().run(lambda: commit(items))


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
        # A Future (the writer thread's) stays one; a coroutine (Redis) becomes a task.
        committed = asyncio.ensure_future(self._commit(items))
        committed.add_done_callback(lambda done: self._settle(batch, done))

    def _settle(
        self,
        batch: list[tuple[list[Item], asyncio.Future[list[Result]]]],
        committed: asyncio.Future[list[Result | BaseException]],
    ) -> None:
        # The commit itself failed (or was cancelled at shutdown): every write with it.
        outcome: list[Result | BaseException] | BaseException
        if committed.cancelled():
            outcome = asyncio.CancelledError()
        else:
            outcome = committed.exception() or committed.result()
        start = 0
        for submitted, future in batch:
            end = start + len(submitted)
            results = (
                [outcome] * len(submitted)
                if isinstance(outcome, BaseException)
                else outcome[start:end]
            )
            start = end
            if future.done():  # its caller was cancelled
                continue
            failed = next((r for r in results if isinstance(r, BaseException)), None)
            if failed is not None:
                future.set_exception(failed)
            else:
                future.set_result(results)  # type: ignore[arg-type]
        self._committing = False
        if self._pending:
            self._commit_pending()


# A Redis command: its name and arguments.
Command = tuple[object, ...]


class RedisPipeline:
    """Commands of concurrent calls sent to Redis together: one pipeline (not a
    transaction) a round trip, each call waiting for its own reply."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._batch: GroupCommit[Command, Any] = GroupCommit(self._send)

    async def _send(self, commands: list[Command]) -> list[Any]:
        """Each command's reply, or its error."""
        pipeline = self._redis.pipeline(transaction=False)
        for command in commands:
            pipeline.execute_command(*command)
        return list(await pipeline.execute(raise_on_error=False))

    async def run(self, *command: object) -> Any:
        """The command's reply (its error raised)."""
        return await self._batch.submit(command)

    async def run_all(self, commands: list[Command]) -> list[Any]:
        """The commands' replies, in order, sent in the same round trip."""
        return await self._batch.submit_all(commands)
