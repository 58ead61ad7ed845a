"""What a request adds to restore, read once from a valid request, for the policy and the
audit record."""

from __future__ import annotations

from dataclasses import dataclass

from graphrestore.v1 import restore_session_pb2 as pb


@dataclass(frozen=True)
class Restores:
    """What a request adds to restore (drives, sites, mailboxes)."""

    destinations: frozenset[int]
    count: int
    # How they are named: by restore point, by protection unit, by a drive owner's
    # directory object id, or by names no unit rule can check (e-mails: app-only callers
    # never see a unit's e-mail; site URLs and ids; mailbox owners).
    restore_point_ids: tuple[str, ...] = ()
    unit_ids: tuple[str, ...] = ()
    directory_object_ids: tuple[str, ...] = ()
    unverifiable_names: int = 0
    # (search_response_id, restore_point_id) of each granular artifact: the messages a
    # search found (restore/searches.py checks whom it was answered to).
    searches: tuple[tuple[str, str], ...] = ()
    # (kind of id, id, destination) of each, for the audit record.
    named: tuple[tuple[str, str, int], ...] = ()

    def audit(self) -> list[dict[str, str]]:
        return [
            {kind: value, "destination": _destination_name(destination)}
            for kind, value, destination in self.named
        ]


def _destination_name(number: int) -> str:
    try:
        return pb.DestinationType.Name(number)
    except ValueError:  # a number no member has (proto3 enums are open)
        return str(number)
