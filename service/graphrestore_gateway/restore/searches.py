"""Message searches, bound to the caller they were answered to. A granular mailbox
artifact names a search (its search_response_id) and a restore point it found: the
gateway keeps, in the request store (shared by replicas), which caller each (search,
restore point) was issued to. Since a message search searches exactly one mailbox, the
restore point also binds the search to that mailbox's unit: a caller restores only
messages it found itself, in the mailbox it searched."""

from __future__ import annotations

from graphrestore_gateway.exceptions import Denied, quoted
from graphrestore_gateway.records.store import RequestStore
from graphrestore_gateway.restore.workloads import Workload

# (search_response_id, restore_point_id) of a granular artifact.
Found = tuple[str, str]


def _key(workload: Workload, found: Found) -> str:
    # A restore point id never holds ":" (validation), so the key reads one way only.
    search_id, restore_point_id = found
    return workload.scoped(f"search:{search_id}:{restore_point_id}")


class SearchGrants:
    def __init__(self, store: RequestStore) -> None:
        self._store = store

    async def issued(
        self, workload: Workload, caller: str, search_id: str, restore_point_ids: list[str]
    ) -> None:
        """A message search's answer, before it leaves: its points are the caller's."""
        await self._store.record_owners(
            {_key(workload, (search_id, point)): caller for point in restore_point_ids}
        )

    async def check(self, workload: Workload, caller: str, named: tuple[Found, ...]) -> None:
        """Denied unless every (search, restore point) named was issued to the caller."""
        if not named:
            return
        keys = {_key(workload, found): found for found in named}
        owners = await self._store.owners_of(list(keys))
        for key, (search_id, restore_point_id) in keys.items():
            if owners.get(key) != caller:
                raise Denied(
                    f"search {quoted(search_id)} did not find restore point "
                    f"{quoted(restore_point_id)} for {quoted(caller)}",
                    "SEARCH_NOT_ISSUED_TO_CALLER",
                )
