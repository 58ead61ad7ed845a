"""What the gateway keeps of each session it made: the request that made it and, where
Graph will not list it (granular mailbox artifacts), what the create put in. Written in
the same commit as the session's owner; read by reconciliation (is this draft another
request's?) and by the policy (what may this caller change?).

A granular drive or site session is marked granular only: Graph lists its files and
folders as they change, each with its browse session, whose restore point is kept here
too (a browse session's holdings: the one point it browses, restore/browse_grants.py)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Holdings:
    # The request record that made the session ("" for a create without request_id).
    request_key: str
    # Whether its artifacts are granular: Graph lists none of them, so the fields below
    # are all anyone can know of it (a retry adopts a granular draft only where Graph
    # showed it held exactly what was asked). Empty for a plain session (Graph lists what
    # it holds, as it changes), and for a granular draft an earlier gateway adopted unseen:
    # what it holds is known only where they are filled in.
    granular: bool
    restore_point_ids: tuple[str, ...] = ()
    destinations: tuple[int, ...] = ()
    search_response_ids: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Holdings:
        fields = json.loads(raw)
        return cls(
            request_key=str(fields["request_key"]),
            granular=bool(fields["granular"]),
            restore_point_ids=tuple(fields["restore_point_ids"]),
            destinations=tuple(fields["destinations"]),
            search_response_ids=tuple(fields["search_response_ids"]),
        )
