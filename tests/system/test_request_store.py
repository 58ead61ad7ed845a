"""The request stores (SQLite for one replica, Redis for several) under concurrent calls:
their writes share commits (SQLite transactions, Redis pipelines), and each call still
gets its own record, answer and owner back."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from graphrestore_gateway.group_commit import Command, RedisPipeline
from graphrestore_gateway.records.redis_store import RedisStore
from graphrestore_gateway.records.sqlite_store import SqliteStore
from graphrestore_gateway.records.store import DONE, LEASE_S, PENDING, RequestStore
from helpers import wait_until
from redis.asyncio import Redis

CALLS = 40


class CountingSqliteStore(SqliteStore):
    commits = 0

    def _commit(self, statements: list[tuple[str, tuple[object, ...]]]) -> Any:
        self.commits += 1
        return super()._commit(statements)


class CountingPipeline(RedisPipeline):
    commits = 0

    async def _send(self, commands: list[Command]) -> list[Any]:
        self.commits += 1
        return await super()._send(commands)


class CountingRedisStore(RedisStore):
    def __init__(self, redis: Redis, generation: bytes) -> None:
        super().__init__(redis, generation)
        self.counting = CountingPipeline(redis)
        self._commands = self.counting

    @property
    def commits(self) -> int:
        return self.counting.commits


Scenario = Callable[[RequestStore], Awaitable[None]]


@pytest.fixture(params=["sqlite", "redis"])
def run_with_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[Scenario], CountingSqliteStore | CountingRedisStore]:
    """Run a scenario against a fresh store of the kind; the store, to count its commits."""

    def run(scenario: Scenario) -> CountingSqliteStore | CountingRedisStore:
        async def main() -> CountingSqliteStore | CountingRedisStore:
            store: CountingSqliteStore | CountingRedisStore
            if request.param == "sqlite":
                store = CountingSqliteStore(tmp_path / "requests.sqlite3")
            else:
                url = request.getfixturevalue("redis_url")
                store = await CountingRedisStore.open(Redis.from_url(url))
            try:
                await scenario(store)
            finally:
                await store.close()
            return store

        return asyncio.run(main())

    return run


def test_concurrent_calls_share_commits_and_each_gets_its_own_answer(
    run_with_store: Callable[[Scenario], CountingSqliteStore | CountingRedisStore],
) -> None:
    run = f"{time.time_ns()}"
    keys = [f"caller-{i}|CreateRestoreSession|{run}-{i}" for i in range(CALLS)]

    async def scenario(store: RequestStore) -> None:
        claimed = await asyncio.gather(*(store.claim(key, f"hash-{key}") for key in keys))
        assert claimed == [None] * CALLS
        seen = await asyncio.gather(*(store.claim(key, "another request") for key in keys))
        assert [(r.request_hash, r.state) for r in seen if r] == [
            (f"hash-{key}", PENDING) for key in keys
        ]
        await asyncio.gather(
            *(
                store.finish(key, "ok", f"answer {i}".encode(), {f"session:{run}-{i}": f"c{i}"})
                for i, key in enumerate(keys)
            )
        )
        done = await asyncio.gather(*(store.claim(key, "again") for key in keys))
        assert [(r.state, r.kind, r.payload) for r in done if r] == [
            (DONE, "ok", f"answer {i}".encode()) for i in range(CALLS)
        ]
        owners = await store.owners_of([f"session:{run}-{i}" for i in range(CALLS)])
        assert owners == {f"session:{run}-{i}": f"c{i}" for i in range(CALLS)}

    store = run_with_store(scenario)
    # 4 rounds of 40 calls; one commit each would be 160.
    assert 0 < store.commits < 4 * CALLS / 2, store.commits


def test_a_lease_is_renewed_expired_and_released(
    run_with_store: Callable[[Scenario], CountingSqliteStore | CountingRedisStore],
) -> None:
    key = f"caller|CreateRestoreSession|lease-{time.time_ns()}"

    async def scenario(store: RequestStore) -> None:
        assert await store.claim(key, "h") is None
        first = await store.claim(key, "h")
        assert first is not None and not first.lease_expired(time.time())
        # The clock has moved since the first lease was given: a renewal ends later.
        assert await wait_until(lambda: time.time() + LEASE_S > first.lease_until)
        await store.renew(key)
        renewed = await store.claim(key, "h")
        assert renewed is not None and renewed.lease_until > first.lease_until
        await store.expire_lease(key)
        expired = await store.claim(key, "h")
        assert expired is not None and expired.lease_expired(time.time())
        assert await store.take_over(key, expired)
        assert not await store.take_over(key, expired)  # the lease seen is gone
        await store.release(key)
        assert await store.claim(key, "h") is None

    run_with_store(scenario)


def test_creates_still_pending_are_found_by_what_they_ask_until_they_end(
    run_with_store: Callable[[Scenario], CountingSqliteStore | CountingRedisStore],
) -> None:
    """A create's record is listed under its contents from its claim until it is finished
    or released (reconciliation leaves a draft to the first of them); other contents,
    and records without any, are not."""
    run = time.time_ns()
    asked, other = f"contents-{run}", f"other-{run}"
    first, second, finished, released = (f"c|CreateRestoreSession|{run}-{n}" for n in range(4))

    async def scenario(store: RequestStore) -> None:
        for key in (first, second, finished, released):
            assert await store.claim(key, "h", asked) is None
        assert await store.claim(f"c|CreateRestoreSession|{run}-other", "h", other) is None
        assert await store.claim(f"c|DeleteRestoreSession|{run}", "h") is None
        await store.expire_lease(second)  # a lost answer: still pending
        await store.finish(finished, "ok", b"")
        await store.release(released)
        pending = await store.pending_asking(asked)
        assert sorted(pending) == [first, second]
        assert pending[first] <= pending[second] <= time.time()
        assert await store.claim(finished, "h", asked) is not None  # a replay lists nothing
        assert sorted(await store.pending_asking(asked)) == [first, second]

    run_with_store(scenario)


def test_a_request_file_of_a_gateway_from_before_is_opened_and_keeps_contents(
    tmp_path: Path,
) -> None:
    """A SQLite file written before records kept what they ask for gets the column: its
    answers are still replayed, and new creates are listed."""
    path = tmp_path / "requests.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE requests (key TEXT PRIMARY KEY, request_hash TEXT, state TEXT,"
            " lease_until REAL, created_at REAL, owner TEXT, kind TEXT, payload BLOB)"
        )
        db.execute(
            "INSERT INTO requests VALUES ('old', 'h', 'done', 0, ?, 'o', 'ok', x'00')",
            (time.time(),),
        )
    db.close()

    async def main() -> None:
        store = SqliteStore(path)
        try:
            old = await store.claim("old", "h")
            assert old is not None and (old.state, old.payload) == (DONE, b"\x00")
            assert await store.claim("new", "h", "asked") is None
            assert list(await store.pending_asking("asked")) == ["new"]
        finally:
            await store.close()

    asyncio.run(main())
