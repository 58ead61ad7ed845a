"""The request store: AIP-155 request records, who owns each session, the room reserved
in sessions, and keys generated once for every replica.

Request records: (caller, method, request_id) -> request hash, state and result.

A record is `pending` while one replica works on it, under a lease it renews; `done`
holds the answer to replay. A pending record whose lease ran out belongs to a replica
that died (or to a lost Graph answer): whoever takes it over reconciles with Graph
before doing anything again. A create's record also holds what it asks Graph to make
(Workload.contents_of), and the store finds, by those contents, every record still
pending that asked for them: a draft one of them could have made is not another's to
adopt. Stores: SQLite (one replica, records/sqlite_store.py) or Redis (several,
records/redis_store.py).

Owners: "session:<id>" or "bulk:<id>" -> the caller that created it through the gateway,
set once. Holdings: "session:<id>" -> the request that made it and, for a granular
session, what it holds (records/holdings.py), set once with the owner. Reservations:
artifacts promised to calls in flight on a session, so that concurrent additions cannot
together pass a caller's max_artifacts; they lapse after RESERVATION_S should their
replica die. Units (Redis only): restore point -> protection unit, learned once for every
replica (access/facts.py's UnitCache)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from graphrestore_gateway.records.holdings import Holdings

RECORD_TTL_S = 24 * 3600.0
PURGE_EVERY_S = 3600.0
# A working replica renews its lease this often; a lease this long outlives a pause.
LEASE_S = 10.0
HEARTBEAT_S = 3.0

# A reservation outlives any Graph call it guards; a dead replica's lapses after this.
RESERVATION_S = 300.0

PENDING, DONE = "pending", "done"


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


class RequestStore(Protocol):
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
