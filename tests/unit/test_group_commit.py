"""Group commit (service/graphrestore_gateway/group_commit.py): what arrives while a
commit runs shares the next one, and each caller gets its own item's result."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from graphrestore_gateway.group_commit import GroupCommit, WriterThread, on_writer_thread
from helpers import wait_until


class Committer:
    """A commit that records its batches and can be held at its start."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.calls = 0  # commits started, held or not
        self.release = threading.Event()
        self.release.set()

    def __call__(self, items: list[str]) -> list[str | BaseException]:
        self.calls += 1
        self.release.wait(timeout=10)
        self.batches.append(items)
        return [ValueError(item) if item.startswith("bad") else item.upper() for item in items]


def test_writes_that_arrive_during_a_commit_share_the_next_one() -> None:
    committer = Committer()
    group: GroupCommit[str, str] = GroupCommit(on_writer_thread(committer))

    async def scenario() -> list[str]:
        committer.release.clear()
        first = asyncio.create_task(group.submit("first"))
        assert await wait_until(lambda: committer.calls == 1)  # running, held
        rest = [asyncio.create_task(group.submit(f"w{i}")) for i in range(20)]
        await asyncio.sleep(0)  # one turn of the loop: each task above has submitted
        committer.release.set()
        return [await first, *[await task for task in rest]]

    results = asyncio.run(scenario())
    assert results == ["FIRST", *[f"W{i}" for i in range(20)]]
    assert committer.batches == [["first"], [f"w{i}" for i in range(20)]]


def test_a_failed_write_fails_only_its_own_caller() -> None:
    committer = Committer()
    group: GroupCommit[str, str] = GroupCommit(on_writer_thread(committer))

    async def scenario() -> tuple[list[str], BaseException | str, list[str]]:
        committer.release.clear()
        first = asyncio.create_task(group.submit("first"))
        assert await wait_until(lambda: committer.calls == 1)  # running, held
        good = asyncio.create_task(group.submit_all(["a", "b"]))
        bad = asyncio.create_task(group.submit_all(["c", "bad-d"]))
        await asyncio.sleep(0)  # one turn of the loop: both tasks above have submitted
        committer.release.set()
        await first
        outcome: BaseException | str
        try:
            outcome = str(await bad)
        except ValueError as error:
            outcome = error
        return await good, outcome, committer.batches[1]

    good, bad, shared = asyncio.run(scenario())
    assert good == ["A", "B"]
    assert isinstance(bad, ValueError) and str(bad) == "bad-d"
    assert shared == ["a", "b", "c", "bad-d"]


def test_a_commit_that_raises_fails_every_write_in_it_and_the_next_commit_runs() -> None:
    calls: list[list[str]] = []

    def commit(items: list[str]) -> list[str | BaseException]:
        calls.append(items)
        if len(calls) == 1:
            raise OSError("disk full")
        return items

    group: GroupCommit[str, str] = GroupCommit(on_writer_thread(commit))

    async def scenario() -> str:
        with pytest.raises(OSError, match="disk full"):
            await group.submit_all(["x", "y"])
        return await group.submit("z")

    assert asyncio.run(scenario()) == "z"
    assert calls == [["x", "y"], ["z"]]


def test_a_cancelled_callers_write_is_still_committed() -> None:
    committer = Committer()
    group: GroupCommit[str, str] = GroupCommit(on_writer_thread(committer))

    async def scenario() -> str:
        committer.release.clear()
        cancelled = asyncio.create_task(group.submit("kept"))
        assert await wait_until(lambda: committer.calls == 1)  # its commit runs, held
        cancelled.cancel()
        committer.release.set()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        return await group.submit("after")

    assert asyncio.run(scenario()) == "AFTER"
    assert committer.batches == [["kept"], ["after"]]


def test_jobs_waiting_together_on_the_writer_thread_share_one_wake_up_of_the_loop() -> None:
    """A batch of records and one of audit lines queued behind a running job: both
    outcomes reach the loop with one call_soon_threadsafe, not one each."""
    writer = WriterThread()
    held, running_now = threading.Event(), threading.Event()

    async def scenario() -> tuple[list[str], int]:
        loop = asyncio.get_running_loop()
        wake_ups = 0
        wake = loop.call_soon_threadsafe

        def counted(*args: Any) -> Any:
            nonlocal wake_ups
            wake_ups += 1
            return wake(*args)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]

        def hold() -> str:
            running_now.set()
            held.wait(timeout=10)
            return "running"

        running = writer.run(hold)
        assert await wait_until(running_now.is_set)  # the first job holds the thread
        waiting = [writer.run(lambda name=name: name) for name in ("records", "audit")]
        held.set()
        results = [await running, *[await job for job in waiting]]
        return results, wake_ups

    results, wake_ups = asyncio.run(scenario())
    assert results == ["running", "records", "audit"]
    assert wake_ups == 2  # the running job's, then one for both jobs that waited
