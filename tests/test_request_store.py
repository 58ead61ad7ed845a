"""The request stores (SQLite for one replica, Redis for several) under concurrent calls:
their writes share commits (SQLite transactions, Redis pipelines), and each call still
gets its own record, answer and owner back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from graphrestore_gateway.group_commit import Command, RedisPipeline
from graphrestore_gateway.records.store import (
    DONE,
    PENDING,
    IdempotencyStore,
    RedisStore,
    SqliteStore,
)
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


Scenario = Callable[[IdempotencyStore], Awaitable[None]]


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

    async def scenario(store: IdempotencyStore) -> None:
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

    async def scenario(store: IdempotencyStore) -> None:
        assert await store.claim(key, "h") is None
        first = await store.claim(key, "h")
        assert first is not None and not first.lease_expired(time.time())
        await asyncio.sleep(0.05)
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
