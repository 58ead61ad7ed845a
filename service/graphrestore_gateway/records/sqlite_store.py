"""The request store in one SQLite file: for a single replica."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from graphrestore_gateway.group_commit import GroupCommit, on_writer_thread
from graphrestore_gateway.records.holdings import UNKNOWN_HELD, Holdings
from graphrestore_gateway.records.store import (
    DONE,
    LEASE_S,
    PENDING,
    PURGE_EVERY_S,
    RECORD_TTL_S,
    Record,
)


class SqliteStore:
    """One file under the state dir. Statements of concurrent calls are committed
    together (group commit: one transaction, one fsync), on the writer thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._group: GroupCommit[tuple[str, tuple[object, ...]], list[tuple[object, ...]]] = (
            GroupCommit(on_writer_thread(self._commit))
        )
        # One replica: reservations live in this process. key -> token -> count.
        self._reserved: dict[str, dict[str, int]] = {}
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS requests (key TEXT PRIMARY KEY, request_hash TEXT,"
                " state TEXT, lease_until REAL, created_at REAL, owner TEXT, kind TEXT,"
                " payload BLOB)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS owners (key TEXT PRIMARY KEY, caller TEXT,"
                " created_at REAL)"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS keys (name TEXT PRIMARY KEY, value BLOB)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS holdings (key TEXT PRIMARY KEY, holdings TEXT)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS held (key TEXT, item TEXT, PRIMARY KEY (key, item))"
            )
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(requests)")}
            if "contents" not in columns:  # came later: added to every file without it
                self._db.execute("ALTER TABLE requests ADD COLUMN contents TEXT DEFAULT ''")
            if "made" not in columns:  # came later too
                self._db.execute("ALTER TABLE requests ADD COLUMN made TEXT DEFAULT ''")
            # Only pending records are listed: finishing one empties its contents.
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS requests_by_contents ON requests (contents)"
                " WHERE contents != ''"
            )
            now = time.time()
            self._purged_at = now
            self._db.execute("DELETE FROM requests WHERE created_at < ?", (now - RECORD_TTL_S,))
            # One replica owns this file: whatever is pending was left by a crash.
            self._db.execute("UPDATE requests SET lease_until = 0 WHERE state = ?", (PENDING,))

    def _commit(
        self, statements: list[tuple[str, tuple[object, ...]]]
    ) -> list[list[tuple[object, ...]] | BaseException]:
        """Run statements in one transaction: each one's rows, or the error it raised."""
        results: list[list[tuple[object, ...]] | BaseException] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for sql, args in statements:
                try:
                    results.append(self._db.execute(sql, args).fetchall())
                except sqlite3.Error as exc:
                    results.append(exc)
            self._db.execute("COMMIT")
        return results

    async def _run(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        return await self._group.submit((sql, args))

    async def claim(self, key: str, request_hash: str, contents: str = "") -> Record | None:
        now = time.time()
        if now - self._purged_at > PURGE_EVERY_S:
            self._purged_at = now
            await self._run("DELETE FROM requests WHERE created_at < ?", now - RECORD_TTL_S)
        inserted = await self._run(
            "INSERT INTO requests (key, request_hash, state, lease_until, created_at, owner,"
            " kind, payload, contents) VALUES (?, ?, ?, ?, ?, ?, '', x'', ?)"
            " ON CONFLICT DO NOTHING RETURNING key",
            key,
            request_hash,
            PENDING,
            now + LEASE_S,
            now,
            uuid.uuid4().hex,
            contents,
        )
        if inserted:
            return None
        rows = await self._run(
            "SELECT request_hash, state, lease_until, created_at, owner, kind, payload, made"
            " FROM requests WHERE key = ?",
            key,
        )
        if not rows:  # released in between: try again
            return await self.claim(key, request_hash, contents)
        found_hash, state, lease_until, created_at, owner, kind, payload, made = rows[0]
        return Record(
            request_hash=str(found_hash),
            state=str(state),
            lease_until=float(str(lease_until)),
            created_at=float(str(created_at)),
            owner=str(owner),
            kind=str(kind),
            payload=bytes(payload) if isinstance(payload, bytes) else b"",
            made=str(made or ""),
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

    async def finish(
        self,
        key: str,
        kind: str,
        payload: bytes,
        owners: dict[str, str] | None = None,
        holdings: dict[str, Holdings] | None = None,
    ) -> None:
        answer = (
            "UPDATE requests SET state = ?, kind = ?, payload = ?, contents = '' WHERE key = ?",
            (DONE, kind, payload, key),
        )
        made = self._owner_rows(owners or {}) + self._holdings_rows(holdings or {})
        await self._group.submit_all([answer, *made])

    async def record_owners(
        self, owners: dict[str, str], holdings: dict[str, Holdings] | None = None
    ) -> None:
        rows = self._owner_rows(owners) + self._holdings_rows(holdings or {})
        if rows:
            await self._group.submit_all(rows)

    @staticmethod
    def _holdings_rows(holdings: dict[str, Holdings]) -> list[tuple[str, tuple[object, ...]]]:
        return [
            ("INSERT INTO holdings VALUES (?, ?) ON CONFLICT DO NOTHING", (key, held.to_json()))
            for key, held in holdings.items()
        ]

    @staticmethod
    def _owner_rows(owners: dict[str, str]) -> list[tuple[str, tuple[object, ...]]]:
        now = time.time()
        return [
            ("INSERT INTO owners VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (key, caller, now))
            for key, caller in owners.items()
        ]

    async def record_made(self, key: str, session_id: str) -> None:
        await self._run(
            "UPDATE requests SET made = ? WHERE key = ? AND state = ?", session_id, key, PENDING
        )

    async def expire_lease(self, key: str) -> None:
        await self._run(
            "UPDATE requests SET lease_until = 0 WHERE key = ? AND state = ?", key, PENDING
        )

    async def release(self, key: str) -> None:
        await self._run("DELETE FROM requests WHERE key = ? AND state = ?", key, PENDING)

    async def pending_asking(self, contents: str) -> dict[str, float]:
        rows = await self._run(
            "SELECT key, created_at FROM requests WHERE contents = ? AND contents != ''"
            " AND state = ?",
            contents,
            PENDING,
        )
        return {str(key): float(str(created_at)) for key, created_at in rows}

    async def claim_owner(self, key: str, caller: str) -> bool:
        # The insert and the read of who owns it now, in one commit.
        [_, owner] = await self._group.submit_all(
            [*self._owner_rows({key: caller}), ("SELECT caller FROM owners WHERE key = ?", (key,))]
        )
        return owner == [(caller,)]

    async def owners_of(self, keys: list[str]) -> dict[str, str]:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        rows = await self._run(f"SELECT key, caller FROM owners WHERE key IN ({marks})", *keys)
        return {str(key): str(caller) for key, caller in rows}

    async def holdings_of(self, keys: list[str]) -> dict[str, Holdings]:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        rows = await self._run(f"SELECT key, holdings FROM holdings WHERE key IN ({marks})", *keys)
        return {str(key): Holdings.from_json(str(held)) for key, held in rows}

    async def reserve(self, key: str, count: int, room: int) -> str | None:
        held = self._reserved.setdefault(key, {})
        if sum(held.values()) + count > room:
            return None
        token = uuid.uuid4().hex
        held[token] = count
        return token

    async def release_reservation(self, key: str, token: str) -> None:
        held = self._reserved.get(key, {})
        held.pop(token, None)
        if not held:
            self._reserved.pop(key, None)

    async def record_held(self, key: str, items: list[str], first: bool = False) -> None:
        statements: list[tuple[str, tuple[object, ...]]] = []
        if not first:  # a record not started is unknown
            statements.append(
                (
                    "INSERT INTO held SELECT ?, ? WHERE NOT EXISTS"
                    " (SELECT 1 FROM held WHERE key = ?) ON CONFLICT DO NOTHING",
                    (key, UNKNOWN_HELD, key),
                )
            )
        statements += [
            ("INSERT INTO held VALUES (?, ?) ON CONFLICT DO NOTHING", (key, item)) for item in items
        ]
        await self._group.submit_all(statements)

    async def held_of(self, key: str) -> list[str] | None:
        rows = await self._run("SELECT item FROM held WHERE key = ?", key)
        return [str(item) for (item,) in rows] or None

    async def known_units(self, restore_point_ids: list[str]) -> dict[str, str]:
        return {}

    async def remember_units(self, units: dict[str, str]) -> None:
        return None

    async def generated_key(self, name: str) -> bytes:
        await self._run(
            "INSERT INTO keys VALUES (?, ?) ON CONFLICT DO NOTHING", name, secrets.token_bytes(32)
        )
        [(value,)] = await self._run("SELECT value FROM keys WHERE name = ?", name)
        assert isinstance(value, bytes)
        return value

    async def ping(self) -> bool:
        return bool(await self._run("SELECT 1"))

    async def close(self) -> None:
        with self._lock:
            self._db.close()
