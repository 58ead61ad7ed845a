"""Finding what an interrupted browse create made, by what it holds, never by count: the
browse session on the restore point asked for (Graph never echoes restorePointId: the
point's time and its drive owner or site), and the granular draft whose items Graph lists
as exactly those asked. Of the candidates no owner or other request claims, more than one
is refused (UnreconcilableCreate), as for plain creates, and so is a granular draft of
the items an earlier request still pending asked for (its fingerprint:
Workload.browsed_contents_of)."""

from __future__ import annotations

import logging
from typing import Any

from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.exceptions import UnreconcilableCreate
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.records.holdings import Holdings
from graphrestore_gateway.restore import convert
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.restore.page_tokens import continuation
from graphrestore_gateway.restore.session_filler import (
    RECONCILE_SKEW_S,
    Claimant,
    SessionFiller,
)
from graphrestore_gateway.restore.workloads import Workload

log = logging.getLogger(__name__)


async def browse_session_made(
    graph: GraphClient,
    call: Call,
    point_id: str,
    listed: dict[str, dict[str, Any]],
    owners: dict[str, str],
    held: dict[str, Holdings],
) -> tuple[str, dict[str, Any]] | None:
    """(ownership key, Graph's body) of the browse session an interrupted create made,
    among those `listed` by key with their recorded `owners` and `held`: the one this
    request recorded, else the one no one recorded, made since the attempt began, on the
    point asked for. The caller claims the second kind."""
    for key, body in listed.items():
        recorded = held.get(key)
        if recorded is not None and recorded.request_key == call.request_key:
            return key, body
    assert call.reconcile_since is not None
    earliest = call.reconcile_since - RECONCILE_SKEW_S
    unclaimed = {
        key: body
        for key, body in listed.items()
        if key not in held and key not in owners and _created_since(body, earliest)
    }
    if not unclaimed:
        return None
    point = await _PointSeen.of(graph, call, point_id)
    matching = [(key, body) for key, body in unclaimed.items() if point.browsed_by(body)]
    if len(matching) > 1:
        ids = [str(body.get("id", "")) for _, body in matching]
        raise UnreconcilableCreate("RECONCILIATION_AMBIGUOUS", ids)
    return matching[0] if matching else None


async def items_session_made(
    graph: GraphClient,
    call: Call,
    filler: SessionFiller,
    claimant: Claimant,
    workload: Workload,
    items: list[Any],
) -> pb.RestoreSession | None:
    """The draft an interrupted create of these items made: one this request recorded,
    else the one draft made since the attempt began that no owner or other request
    claims and whose items Graph lists as exactly those asked (browse session and item
    key each), claimed for the caller. Refused (UnreconcilableCreate) where more than
    one could be it, or where an earlier request still pending asked for the same items
    (RECONCILIATION_CLAIMED: it could have made the draft, SessionFiller.check_unclaimed)."""
    assert call.reconcile_since is not None
    wanted = sorted((item.browse_session_id, item.id) for item in items)
    candidates: list[pb.RestoreSession] = []
    async for page in filler.recent_drafts(call.reconcile_since, call.deadline):
        owners, holdings = await claimant.recorded([s.id for s in page])
        for session in page:
            recorded = holdings.get(session.id)
            if recorded is not None and recorded.request_key == claimant.request_key:
                return session
            if session.id in owners or recorded is not None:
                continue  # another request's
            if await _items_of(graph, call, session.id) == wanted:
                candidates.append(session)
    if len(candidates) > 1:
        raise UnreconcilableCreate("RECONCILIATION_AMBIGUOUS", [s.id for s in candidates])
    if not candidates:
        return None
    # Never one an earlier request still pending asked for (the same items): it is theirs.
    await filler.check_unclaimed(
        candidates[0].id, workload.browsed_contents_of(items), call.reconcile_since
    )
    if not await claimant.claim(candidates[0].id):
        return None
    log.warning(
        "reconciled: the interrupted create had made a granular session",
        extra={"fields": {"restore_session_id": candidates[0].id}},
    )
    return candidates[0]


async def _items_of(graph: GraphClient, call: Call, session_id: str) -> list[tuple[str, str]]:
    """(browse session id, item key) of every granular item a session lists, sorted."""
    found: list[tuple[str, str]] = []
    options: dict[str, str] = {}
    while True:
        answer = await graph.list_granular_artifacts(session_id, options, call.deadline)
        for item in convert.collection(answer.body, dict):
            found.append((str(item.get("browseSessionId", "")), str(item.get("id", ""))))
        options = continuation(answer.body.get("@odata.nextLink"))
        if not options:
            return sorted(found)


def _created_since(body: dict[str, Any], earliest: float) -> bool:
    created = convert.timestamp_from_graph(body.get("createdDateTime"))
    return created is not None and created.ToSeconds() >= earliest


class _PointSeen:
    """A restore point as a browse session shows it (Graph never echoes restorePointId):
    the time it was taken and the drive owner or site it is of."""

    def __init__(self, point_id: str, taken: str, owner: str) -> None:
        self.point_id = point_id
        self.taken = taken
        self.owner = owner

    @classmethod
    async def of(cls, graph: GraphClient, call: Call, point_id: str) -> _PointSeen:
        point = (await graph.get_restore_point(point_id, call.deadline)).body
        unit = (await graph.get_protection_unit_of(point_id, call.deadline)).body
        taken = convert.timestamp_from_graph(point.get("protectionDateTime"))
        owner = unit.get("directoryObjectId") or unit.get("siteId") or ""
        return cls(point_id, taken.ToJsonString() if taken else "", str(owner))

    def browsed_by(self, body: dict[str, Any]) -> bool:
        """Whether a browse session body is one on this point: its echoed point, or the
        point's time and its drive owner or site, all known and equal."""
        if body.get("restorePointId"):
            return body.get("restorePointId") == self.point_id
        taken = convert.timestamp_from_graph(body.get("restorePointDateTime"))
        owner = body.get("directoryObjectId") or body.get("siteId") or ""
        return bool(self.taken and self.owner) and (
            taken is not None and taken.ToJsonString() == self.taken and owner == self.owner
        )
