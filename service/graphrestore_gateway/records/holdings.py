"""What the gateway keeps of each session it made: the request that made it and, where
Graph will not list it (granular mailbox artifacts), what the create put in. Written in
the same commit as the session's owner; read by reconciliation (is this draft another
request's?) and by the policy (what may this caller change?).

A granular drive or site session is marked granular only: Graph lists its files and
folders as they change, each with its browse session, whose restore point is kept here
too (a browse session's holdings: the one point it browses, restore/browse_grants.py).

What a plain session may hold is kept beside, as a set of held items (restore point and
destination), grown before each change reaches Graph, so that it is never less than what
the session holds: written whole when the gateway's create has filled the session, grown
by each addition before its PATCH, and made unknown (UNKNOWN_HELD) by a removal or a bulk
request (Graph does not say what they took away or brought in), and by an addition to a
session whose set was not started (made outside, before, or its create still filling).
Where it counts as many items as Graph counts artifacts, it is exactly what the session
holds, and the policy reads it instead of listing Graph's artifacts (access/facts.py)."""

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


# The held item that makes a session's record unknown.
UNKNOWN_HELD = "?"


def held_item(restore_point_id: str, destination_type: int) -> str:
    """One held item: an artifact's destination and restore point."""
    return f"{destination_type}:{restore_point_id}"


def read_held(items: list[str] | None) -> tuple[frozenset[int], list[str]] | None:
    """(destination types, restore point ids) of held items; None when unknown."""
    if not items or UNKNOWN_HELD in items:
        return None
    destinations, points = set(), []
    for item in items:
        destination, _, point_id = item.partition(":")
        destinations.add(int(destination))
        points.append(point_id)
    return frozenset(destinations), points
