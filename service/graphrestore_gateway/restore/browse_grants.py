"""Browse sessions, bound to the caller that made them. Browsing shows file names from
someone's drive or site: the gateway keeps, in the request store (shared by replicas),
which caller made each browse session and on which restore point (its holdings), written
with the create's answer. A caller reads only its own browse sessions (unless it sees
every session), restores items only from its own, and the restore point's unit is held
to the caller's units either way."""

from __future__ import annotations

from graphrestore_gateway.exceptions import BrowseSessionNotFound, Denied, quoted
from graphrestore_gateway.records.holdings import Holdings
from graphrestore_gateway.records.store import RequestStore
from graphrestore_gateway.restore.workloads import Workload


def browse_key(workload: Workload, browse_session_id: str) -> str:
    """The ownership (and holdings) key of a browse session."""
    return workload.scoped(f"browse:{browse_session_id}")


def browse_holdings(request_key: str, restore_point_id: str) -> Holdings:
    """What the gateway keeps of a browse session it made: the point it browses."""
    return Holdings(request_key, granular=False, restore_point_ids=(restore_point_id,))


class BrowseGrants:
    def __init__(self, store: RequestStore) -> None:
        self._store = store

    async def restore_points_of(
        self,
        workload: Workload,
        caller: str,
        browse_session_ids: list[str],
        restoring: bool,
        sees_every_session: bool,
    ) -> list[str]:
        """The restore point of each browse session named ("" where the gateway made no
        record of it: made outside the gateway). Items are restored only from the
        caller's own (`restoring`: Denied otherwise); a caller that sees only its own
        sessions reads only its own (BrowseSessionNotFound otherwise)."""
        keys = [browse_key(workload, session_id) for session_id in browse_session_ids]
        owners = await self._store.owners_of(keys)
        for key, session_id in zip(keys, browse_session_ids, strict=True):
            if owners.get(key) == caller:
                continue
            if restoring:
                raise Denied(
                    f"browse session {quoted(session_id)} was not made by {quoted(caller)}: "
                    "items are restored only from the caller's own browse sessions",
                    "BROWSE_SESSION_NOT_CALLERS",
                )
            if not sees_every_session:
                raise BrowseSessionNotFound("BROWSE_SESSION_NOT_VISIBLE")
        return await self.recorded_points(workload, browse_session_ids)

    async def recorded_points(self, workload: Workload, browse_session_ids: list[str]) -> list[str]:
        """The restore point recorded for each browse session ("" for one the gateway did
        not make)."""
        keys = [browse_key(workload, session_id) for session_id in browse_session_ids]
        held = await self._store.holdings_of(keys)
        return [
            held[key].restore_point_ids[0] if key in held and held[key].restore_point_ids else ""
            for key in keys
        ]

    async def is_recorded(self, workload: Workload, browse_session_id: str) -> bool:
        """Whether the gateway made this browse session (it knows it existed)."""
        key = browse_key(workload, browse_session_id)
        return bool(await self._store.owners_of([key]))
