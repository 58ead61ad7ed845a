"""AIP-155 request ids: (caller, method, request_id) -> request hash, state and result.

A record is `pending` while one replica works on it, under a lease it renews; `done`
holds the answer to replay. A pending record whose lease ran out belongs to a replica
that died (or to a lost Graph answer): whoever takes it over reconciles with Graph
before doing anything again. Stores: SQLite (one replica) or Redis (several)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from redis.asyncio import Redis

RECORD_TTL_S = 24 * 3600.0
PURGE_EVERY_S = 3600.0
# A working replica renews its lease this often; a lease this long outlives a pause.
LEASE_S = 10.0
HEARTBEAT_S = 3.0

PENDING, DONE = "pending", "done"


@dataclass
class Record:
    request_hash: str
    state: str
    lease_until: float
    created_at: float
    # Who holds the lease: a fresh token per claim and take-over.
    owner: str
    # For done records: "ok" with the response's bytes, or "error" with a google.rpc.Status.
    kind: str = ""
    payload: bytes = b""

    def lease_expired(self, now: float) -> bool:
        return self.state == PENDING and self.lease_until <= now


class IdempotencyStore(Protocol):
    async def claim(self, key: str, request_hash: str) -> Record | None:
        """Insert a pending record for us; None if we got it, else the record already there."""

    async def take_over(self, key: str, stale: Record) -> bool:
        """Renew an expired lease if it is still the one seen; True if it is ours now."""

    async def renew(self, key: str) -> None: ...

    async def finish(self, key: str, kind: str, payload: bytes) -> None: ...

    async def expire_lease(self, key: str) -> None:
        """Leave the record pending but up for reconciliation by the next retry."""

    async def release(self, key: str) -> None:
        """Forget the record: the request had no effect and may run again."""

    async def close(self) -> None: ...


class SqliteStore:
    """One file under the state dir; calls run in a worker thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS requests (key TEXT PRIMARY KEY, request_hash TEXT,"
                " state TEXT, lease_until REAL, created_at REAL, owner TEXT, kind TEXT,"
                " payload BLOB)"
            )
            now = time.time()
            self._purged_at = now
            self._db.execute("DELETE FROM requests WHERE created_at < ?", (now - RECORD_TTL_S,))
            # One replica owns this file: whatever is pending was left by a crash.
            self._db.execute("UPDATE requests SET lease_until = 0 WHERE state = ?", (PENDING,))

    def _sync(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    async def _run(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        return await asyncio.to_thread(self._sync, sql, *args)

    async def claim(self, key: str, request_hash: str) -> Record | None:
        now = time.time()
        if now - self._purged_at > PURGE_EVERY_S:
            self._purged_at = now
            await self._run("DELETE FROM requests WHERE created_at < ?", now - RECORD_TTL_S)
        inserted = await self._run(
            "INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, '', x'') ON CONFLICT DO NOTHING"
            " RETURNING key",
            key,
            request_hash,
            PENDING,
            now + LEASE_S,
            now,
            uuid.uuid4().hex,
        )
        if inserted:
            return None
        rows = await self._run(
            "SELECT request_hash, state, lease_until, created_at, owner, kind, payload"
            " FROM requests WHERE key = ?",
            key,
        )
        if not rows:  # released in between: try again
            return await self.claim(key, request_hash)
        found_hash, state, lease_until, created_at, owner, kind, payload = rows[0]
        return Record(
            request_hash=str(found_hash),
            state=str(state),
            lease_until=float(str(lease_until)),
            created_at=float(str(created_at)),
            owner=str(owner),
            kind=str(kind),
            payload=bytes(payload) if isinstance(payload, bytes) else b"",
        )

    async def take_over(self, key: str, stale: Record) -> bool:
        changed = await self._run(
            "UPDATE requests SET lease_until = ?, owner = ? WHERE key = ? AND state = ?"
            " AND owner = ? RETURNING key",
            time.time() + LEASE_S,
            uuid.uuid4().hex,
            key,
            PENDING,
            stale.owner,
        )
        return bool(changed)

    async def renew(self, key: str) -> None:
        await self._run(
            "UPDATE requests SET lease_until = ? WHERE key = ? AND state = ?",
            time.time() + LEASE_S,
            key,
            PENDING,
        )

    async def finish(self, key: str, kind: str, payload: bytes) -> None:
        await self._run(
            "UPDATE requests SET state = ?, kind = ?, payload = ? WHERE key = ?",
            DONE,
            kind,
            payload,
            key,
        )

    async def expire_lease(self, key: str) -> None:
        await self._run(
            "UPDATE requests SET lease_until = 0 WHERE key = ? AND state = ?", key, PENDING
        )

    async def release(self, key: str) -> None:
        await self._run("DELETE FROM requests WHERE key = ? AND state = ?", key, PENDING)

    async def close(self) -> None:
        with self._lock:
            self._db.close()


# Atomic take-over of a stale lease: only if its owner is still the one seen.
_TAKE_OVER = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local record = cjson.decode(raw)
if record.state ~= 'pending' or record.owner ~= ARGV[1] then return 0 end
record.owner = ARGV[2]
record.lease_until = tonumber(ARGV[3])
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
return 1
"""


class RedisStore:
    """Records as JSON strings with a TTL, shared by every replica."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._take_over = redis.register_script(_TAKE_OVER)

    @staticmethod
    def _key(key: str) -> str:
        return f"graphrestore:request:{key}"

    @staticmethod
    def _encode(record: Record) -> str:
        fields = asdict(record)
        fields["payload"] = record.payload.hex()
        return json.dumps(fields)

    @staticmethod
    def _decode(raw: bytes | str) -> Record:
        fields = json.loads(raw)
        fields["payload"] = bytes.fromhex(fields["payload"])
        return Record(**fields)

    async def claim(self, key: str, request_hash: str) -> Record | None:
        now = time.time()
        fresh = Record(request_hash, PENDING, now + LEASE_S, now, uuid.uuid4().hex)
        if await self._redis.set(
            self._key(key), self._encode(fresh), nx=True, ex=int(RECORD_TTL_S)
        ):
            return None
        raw = await self._redis.get(self._key(key))
        return self._decode(raw) if raw is not None else await self.claim(key, request_hash)

    async def take_over(self, key: str, stale: Record) -> bool:
        taken = await self._take_over(
            keys=[self._key(key)], args=[stale.owner, uuid.uuid4().hex, time.time() + LEASE_S]
        )
        return bool(taken)

    async def _update(self, key: str, **changes: object) -> None:
        raw = await self._redis.get(self._key(key))
        if raw is None:
            return
        record = self._decode(raw)
        for name, value in changes.items():
            setattr(record, name, value)
        await self._redis.set(self._key(key), self._encode(record), keepttl=True)

    async def renew(self, key: str) -> None:
        await self._update(key, lease_until=time.time() + LEASE_S)

    async def finish(self, key: str, kind: str, payload: bytes) -> None:
        await self._update(key, state=DONE, kind=kind, payload=payload)

    async def expire_lease(self, key: str) -> None:
        await self._update(key, lease_until=0.0)

    async def release(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def close(self) -> None:
        await self._redis.aclose()
