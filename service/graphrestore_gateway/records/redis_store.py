"""The request store in Redis: shared by every replica. Each change that reads before
it writes is one Lua script, run atomically by Redis."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import asdict
from typing import Self

from redis.asyncio import Redis

from graphrestore_gateway.exceptions import StoreLost
from graphrestore_gateway.group_commit import Command, RedisPipeline
from graphrestore_gateway.records.holdings import UNKNOWN_HELD, Holdings
from graphrestore_gateway.records.store import (
    DONE,
    LEASE_S,
    PENDING,
    RECORD_TTL_S,
    RESERVATION_S,
    Record,
)

# A restore point's protection unit (it never changes), kept this long after a replica
# last learned it. Restore points live at most a year (Graph's retention): a week bounds
# the keys to the points looked up in a week (about 100 bytes each).
UNIT_TTL_S = 7 * 24 * 3600

# Written once, when the first replica starts: gone, the store lost its data.
GENERATION_KEY = "graphrestore:generation"
# A set of the pending records that asked Graph to make the contents that follow.
LISTED_PREFIX = "graphrestore:asking:"

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
