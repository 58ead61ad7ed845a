"""The request store: AIP-155 request records, who owns each session, the room reserved
in sessions, and keys generated once for every replica.

Request records: (caller, method, request_id) -> request hash, state and result.

A record is `pending` while one replica works on it, under a lease it renews; `done`
holds the answer to replay. A pending record whose lease ran out belongs to a replica
that died (or to a lost Graph answer): whoever takes it over reconciles with Graph
before doing anything again. A create's record also holds what it asks Graph to make
(Workload.contents_of), and the store finds, by those contents, every record still
pending that asked for them: a draft one of them could have made is not another's to
adopt. Stores: SQLite (one replica) or Redis (several).

Owners: "session:<id>" or "bulk:<id>" -> the caller that created it through the gateway,
set once. Holdings: "session:<id>" -> the request that made it and, for a granular
session, what it holds (records/holdings.py), set once with the owner. Reservations:
artifacts promised to calls in flight on a session, so that concurrent additions cannot
together pass a caller's max_artifacts; they lapse after RESERVATION_S should their
replica die. Units (Redis only): restore point -> protection unit, learned once for every
replica (access/facts.py's UnitCache)."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, Self

from redis.asyncio import Redis

from graphrestore_gateway.exceptions import StoreLost
from graphrestore_gateway.group_commit import (
    Command,
    GroupCommit,
    RedisPipeline,
    on_writer_thread,
)
from graphrestore_gateway.records.holdings import UNKNOWN_HELD, Holdings

RECORD_TTL_S = 24 * 3600.0
PURGE_EVERY_S = 3600.0
# A working replica renews its lease this often; a lease this long outlives a pause.
LEASE_S = 10.0
HEARTBEAT_S = 3.0

# A reservation outlives any Graph call it guards; a dead replica's lapses after this.
RESERVATION_S = 300.0

PENDING, DONE = "pending", "done"

# Redis: a restore point's protection unit (it never changes), kept this long after a
# replica last learned it. Restore points live at most a year (Graph's retention): a
# week bounds the keys to the points looked up in a week (about 100 bytes each).
UNIT_TTL_S = 7 * 24 * 3600

# Written once, when the first replica starts: gone, the store lost its data.
GENERATION_KEY = "graphrestore:generation"
# Redis: a set of the pending records that asked Graph to make the contents that follow.
LISTED_PREFIX = "graphrestore:asking:"


def session_key(session_id: str) -> str:
    """The ownership key of a restore session (Workload.scoped makes it a workload's)."""
    return f"session:{session_id}"


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
    # What a create asks Graph to make (Workload.contents_of); "" for other requests.
    contents: str = ""
    # The session its work made, once Graph named it ("" until then): a retry looks it
    # up by id, not in restoreSessions lists, which lag.
    made: str = ""

    def lease_expired(self, now: float) -> bool:
        return self.state == PENDING and self.lease_until <= now


class IdempotencyStore(Protocol):
    async def claim(self, key: str, request_hash: str, contents: str = "") -> Record | None:
        """Insert a pending record for us, listed under the `contents` it asks Graph to
        make (if any) while it is pending; None if we got it, else the record already
        there."""

    async def take_over(self, key: str, stale: Record) -> bool:
        """Renew an expired lease if it is still the one seen; True if it is ours now."""

    async def renew(self, key: str) -> None: ...

    async def finish(
        self,
        key: str,
        kind: str,
        payload: bytes,
        owners: dict[str, str] | None = None,
        holdings: dict[str, Holdings] | None = None,
    ) -> None:
        """Store the answer, and in the same commit the owners and holdings of what the
        call made."""

    async def record_owners(
        self, owners: dict[str, str], holdings: dict[str, Holdings] | None = None
    ) -> None:
        """Owners (and holdings) of things just made (no one else can own them yet), in
        one commit."""

    async def record_made(self, key: str, session_id: str) -> None:
        """Note on a pending record the session its work made, before anything else is
        sent to Graph."""

    async def expire_lease(self, key: str) -> None:
        """Leave the record pending but up for reconciliation by the next retry."""

    async def release(self, key: str) -> None:
        """Forget the record: the request had no effect and may run again."""

    async def pending_asking(self, contents: str) -> dict[str, float]:
        """The records not done yet (any caller's) that asked Graph to make `contents`:
        key -> when its first attempt began."""

    async def claim_owner(self, key: str, caller: str) -> bool:
        """Make `caller` the owner of `key` unless another caller is; True if it is the
        caller's now."""

    async def owners_of(self, keys: list[str]) -> dict[str, str]:
        """The owner of each key that has one."""

    async def holdings_of(self, keys: list[str]) -> dict[str, Holdings]:
        """The holdings of each session key the gateway recorded."""

    async def reserve(self, key: str, count: int, room: int) -> str | None:
        """Reserve `count` more artifacts in `key` if the reservations in flight and
        `count` fit into `room`: a token to release, or None."""

    async def release_reservation(self, key: str, token: str) -> None: ...

    async def record_held(self, key: str, items: list[str], first: bool = False) -> None:
        """Grow what a session may hold (records/holdings.py's held items): `first`
        starts the record of a session just filled; any other addition grows only a
        record already started, and marks one not started unknown."""

    async def held_of(self, key: str) -> list[str] | None:
        """What a session may hold, as recorded (None when nothing is)."""

    async def known_units(self, restore_point_ids: list[str]) -> dict[str, str]:
        """The protection unit of each restore point a replica learned (Redis; SQLite's
        one replica keeps them in its process: {})."""

    async def remember_units(self, units: dict[str, str]) -> None:
        """Restore point id -> its protection unit, for the other replicas."""

    async def generated_key(self, name: str) -> bytes:
        """A random 32-byte key, made by whichever replica asks first."""

    async def ping(self) -> bool:
        """Whether the store answers (for health)."""

    async def close(self) -> None: ...


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


# Reserve ARGV[1] artifacts under token ARGV[3] if what is reserved and unexpired plus
# ARGV[1] fits into ARGV[2]; the reservation lapses ARGV[4] seconds from now.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    held = held + tonumber(string.match(member, ':(%d+)$'))
end
if held + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3] .. ':' .. ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[4])) + 1)
return 1
"""


# Insert a pending record (ARGV[1], for ARGV[2] seconds) unless one is there; one that
# asks Graph to make something is listed under its contents (KEYS[2]) while it is pending.
_CLAIM = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
if KEYS[2] then
    redis.call('SADD', KEYS[2], KEYS[1])
    redis.call('EXPIRE', KEYS[2], ARGV[2])
end
return 1
"""


# Take a record off the list of its contents (named ARGV[1] followed by the contents):
# shared by the scripts that finish or forget a record.
_UNLIST = """
local function unlist(name, record)
    if record.contents and record.contents ~= '' then
        redis.call('SREM', ARGV[1] .. record.contents, name)
    end
end
"""


# Change fields of a record (ARGV[2], a JSON object) if it is still there, keeping its TTL.
_UPDATE = (
    _UNLIST
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local record = cjson.decode(raw)
for name, value in pairs(cjson.decode(ARGV[2])) do record[name] = value end
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
if record.state ~= 'pending' then unlist(KEYS[1], record) end
return 1
"""
)


# Forget a record, and unlist it.
_FORGET = (
    _UNLIST
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
unlist(KEYS[1], cjson.decode(raw))
redis.call('DEL', KEYS[1])
return 1
"""
)


# Grow a session's held set (KEYS[1]) by ARGV[3...]: a first record (ARGV[1] "1")
# starts it; any other grows only one started, and marks one not started with ARGV[2].
_HOLD = """
if ARGV[1] ~= '1' and redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SADD', KEYS[1], ARGV[2])
end
for index = 3, #ARGV do redis.call('SADD', KEYS[1], ARGV[index]) end
return 1
"""


class RedisStore:
    """Records as JSON strings with a TTL, shared by every replica. The commands of
    concurrent calls go to Redis together, in one pipeline (group commit: one round trip
    for all of them, each call still waiting for its own).

    Redis must persist (AOF): one restarted empty has forgotten every answer and owner,
    and a retried create would make a second session. The store holds a generation
    marker, written when the first replica starts; a claim or an owner lookup that finds
    it gone (or another) raises StoreLost instead of going on."""

    def __init__(self, redis: Redis, generation: bytes) -> None:
        self._redis = redis
        self._generation = generation
        self._take_over = redis.register_script(_TAKE_OVER)
        self._reserve = redis.register_script(_RESERVE)
        self._commands = RedisPipeline(redis)

    @classmethod
    async def open(cls, redis: Redis) -> Self:
        """The store, marked: with a new generation marker, or the one the replicas
        running already wrote (set once; never written again while this one runs)."""
        await redis.set(GENERATION_KEY, uuid.uuid4().hex, nx=True)
        generation = await redis.get(GENERATION_KEY)
        assert isinstance(generation, bytes)
        return cls(redis, generation)

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

    @staticmethod
    def _listed_key(contents: str) -> str:
        return f"{LISTED_PREFIX}{contents}"

    async def claim(self, key: str, request_hash: str, contents: str = "") -> Record | None:
        now = time.time()
        fresh = Record(
            request_hash, PENDING, now + LEASE_S, now, uuid.uuid4().hex, contents=contents
        )
        name = self._key(key)
        keys = [name, self._listed_key(contents)] if contents else [name]
        # Whether it was set, what is there now, and the marker: in the same round trip.
        created, raw, generation = await self._commands.run_all(
            [
                ("EVAL", _CLAIM, len(keys), *keys, self._encode(fresh), int(RECORD_TTL_S)),
                ("GET", name),
                ("GET", GENERATION_KEY),
            ]
        )
        if generation != self._generation:
            if created:
                await self._commands.run("DEL", name)
            raise StoreLost()
        if created:
            return None
        if raw is None:  # released in between: try again
            return await self.claim(key, request_hash, contents)
        return self._decode(raw)

    async def take_over(self, key: str, stale: Record) -> bool:
        taken = await self._take_over(
            keys=[self._key(key)], args=[stale.owner, uuid.uuid4().hex, time.time() + LEASE_S]
        )
        return bool(taken)

    def _update(self, key: str, **changes: object) -> Command:
        """The command that changes fields of a record, atomically, if it is there."""
        return ("EVAL", _UPDATE, 1, self._key(key), LISTED_PREFIX, json.dumps(changes))

    @staticmethod
    def _owner_key(key: str) -> str:
        return f"graphrestore:owner:{key}"

    def _owner_commands(self, owners: dict[str, str]) -> list[Command]:
        return [("SET", self._owner_key(key), caller, "NX") for key, caller in owners.items()]

    @staticmethod
    def _holdings_key(key: str) -> str:
        return f"graphrestore:holdings:{key}"

    def _holdings_commands(self, holdings: dict[str, Holdings]) -> list[Command]:
        return [
            ("SET", self._holdings_key(key), held.to_json(), "NX") for key, held in holdings.items()
        ]

    async def renew(self, key: str) -> None:
        await self._commands.run(*self._update(key, lease_until=time.time() + LEASE_S))

    async def finish(
        self,
        key: str,
        kind: str,
        payload: bytes,
        owners: dict[str, str] | None = None,
        holdings: dict[str, Holdings] | None = None,
    ) -> None:
        answer = self._update(key, state=DONE, kind=kind, payload=payload.hex())
        made = self._owner_commands(owners or {}) + self._holdings_commands(holdings or {})
        await self._commands.run_all([answer, *made])

    async def record_owners(
        self, owners: dict[str, str], holdings: dict[str, Holdings] | None = None
    ) -> None:
        commands = self._owner_commands(owners) + self._holdings_commands(holdings or {})
        if commands:
            await self._commands.run_all(commands)

    async def record_made(self, key: str, session_id: str) -> None:
        await self._commands.run(*self._update(key, made=session_id))

    async def expire_lease(self, key: str) -> None:
        await self._commands.run(*self._update(key, lease_until=0.0))

    async def release(self, key: str) -> None:
        await self._commands.run("EVAL", _FORGET, 1, self._key(key), LISTED_PREFIX)

    async def pending_asking(self, contents: str) -> dict[str, float]:
        names = await self._commands.run("SMEMBERS", self._listed_key(contents))
        if not names:
            return {}
        found = await self._commands.run("MGET", *names)
        prefix = self._key("")
        pending = {}
        for name, raw in zip(names, found, strict=True):
            record = self._decode(raw) if raw is not None else None
            # Listed until unlisted by its end, or expired (24 h) while still listed.
            if record is not None and record.state == PENDING:
                pending[name.decode().removeprefix(prefix)] = record.created_at
        return pending

    async def claim_owner(self, key: str, caller: str) -> bool:
        # The set and the read of who owns it now, in one round trip.
        _, owner = await self._commands.run_all(
            [*self._owner_commands({key: caller}), ("GET", self._owner_key(key))]
        )
        return bool(owner == caller.encode())

    async def owners_of(self, keys: list[str]) -> dict[str, str]:
        if not keys:
            return {}
        found, generation = await self._commands.run_all(
            [("MGET", *[self._owner_key(key) for key in keys]), ("GET", GENERATION_KEY)]
        )
        if generation != self._generation:
            raise StoreLost()
        return {key: owner.decode() for key, owner in zip(keys, found, strict=True) if owner}

    async def holdings_of(self, keys: list[str]) -> dict[str, Holdings]:
        if not keys:
            return {}
        found = await self._commands.run("MGET", *[self._holdings_key(key) for key in keys])
        return {
            key: Holdings.from_json(held) for key, held in zip(keys, found, strict=True) if held
        }

    async def reserve(self, key: str, count: int, room: int) -> str | None:
        token = uuid.uuid4().hex
        reserved = await self._reserve(
            keys=[f"graphrestore:reserved:{key}"], args=[count, room, token, RESERVATION_S]
        )
        return token if reserved else None

    async def release_reservation(self, key: str, token: str) -> None:
        name = f"graphrestore:reserved:{key}"
        # The member is "<token>:<count>": remove whichever count it was made with.
        for member in await self._redis.zrange(name, 0, -1):
            if member.decode().startswith(f"{token}:"):
                await self._redis.zrem(name, member)

    @staticmethod
    def _held_key(key: str) -> str:
        return f"graphrestore:held:{key}"

    async def record_held(self, key: str, items: list[str], first: bool = False) -> None:
        await self._commands.run(
            "EVAL", _HOLD, 1, self._held_key(key), "1" if first else "0", UNKNOWN_HELD, *items
        )

    async def held_of(self, key: str) -> list[str] | None:
        items = await self._commands.run("SMEMBERS", self._held_key(key))
        return [item.decode() for item in items] or None

    @staticmethod
    def _unit_key(restore_point_id: str) -> str:
        return f"graphrestore:unit:{restore_point_id}"

    async def known_units(self, restore_point_ids: list[str]) -> dict[str, str]:
        if not restore_point_ids:
            return {}
        found = await self._commands.run("MGET", *map(self._unit_key, restore_point_ids))
        return {
            point_id: unit.decode()
            for point_id, unit in zip(restore_point_ids, found, strict=True)
            if unit
        }

    async def remember_units(self, units: dict[str, str]) -> None:
        await self._commands.run_all(
            [
                ("SET", self._unit_key(point_id), unit_id, "EX", UNIT_TTL_S)
                for point_id, unit_id in units.items()
            ]
        )

    async def generated_key(self, name: str) -> bytes:
        redis_key = f"graphrestore:key:{name}"
        await self._redis.set(redis_key, secrets.token_hex(32), nx=True)
        value = await self._redis.get(redis_key)
        return bytes.fromhex(value.decode())

    async def ping(self) -> bool:
        """Whether Redis answers and still holds this replica's generation marker."""
        answer, generation = await self._commands.run_all([("PING",), ("GET", GENERATION_KEY)])
        return bool(answer) and generation == self._generation

    async def close(self) -> None:
        await self._redis.aclose()
