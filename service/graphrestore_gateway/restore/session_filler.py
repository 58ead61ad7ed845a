"""Filling restore sessions (of any workload) with artifacts, 50 per Graph call, and
finding the session an interrupted create made."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.exceptions import UnreconcilableCreate
from graphrestore_gateway.graph.client import GraphAnswer, GraphClient
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import DEADLINE_EXCEEDED, GraphError
from graphrestore_gateway.records.holdings import Holdings
from graphrestore_gateway.restore import convert, session_convert
from graphrestore_gateway.restore.page_tokens import MAX_PAGE_SIZE, continuation, page_query
from graphrestore_gateway.restore.workloads import BULK_NAMES, Workload

log = logging.getLogger(__name__)
# Graph takes this many artifacts per create or PATCH.
ARTIFACTS_PER_GRAPH_CALL = 50
# Clocks of Graph and the gateway may differ by this much.
RECONCILE_SKEW_S = 120.0
T = TypeVar("T")


def chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# Make the calling caller the owner of an existing session; False if another caller
# owns it (an interrupted attempt's session, found again).
Claim = Callable[[str], Awaitable[bool]]
# Note a session this call has made or adopted, with what the gateway keeps of it (its
# owner and holdings are written with the answer).
Made = Callable[[str, Holdings], None]
# The owners and holdings recorded for sessions, by session id.
Recorded = Callable[[list[str]], Awaitable[tuple[dict[str, str], dict[str, Holdings]]]]
# The request records not done yet that asked Graph to make these contents
# (Workload.contents_of): key -> when its first attempt began.
Pending = Callable[[str], Awaitable[dict[str, float]]]
# Record a session just made or adopted at once, before anything else is sent to Graph:
# on the request record (a retry looks it up by id), with its owner and holdings.
Keep = Callable[[str], Awaitable[None]]
# What a look into Graph's lists finds.
Found = TypeVar("Found")


@dataclass(frozen=True)
class Claimant:
    """The call a filler works for: the request record it runs under, and how the
    sessions it makes or finds are recorded as its own."""

    request_key: str
    claim: Claim
    made: Made
    recorded: Recorded
    pending: Pending
    keep: Keep


async def refuse_if_claimed(
    pending: Pending, request_key: str, made_id: str, contents: str, since: float
) -> None:
    """RECONCILIATION_CLAIMED when a request not done yet other than `request_key` (which
    began at `since`), asking Graph for the same `contents`, began first: what `made_id`
    is could be its (SessionFiller.check_unclaimed; browse sessions too)."""
    own = (since, request_key)
    earlier = sorted(
        key
        for key, began in (await pending(contents)).items()
        if key != request_key and (began, key) < own
    )
    if earlier:
        raise UnreconcilableCreate("RECONCILIATION_CLAIMED", [made_id], earlier)


class SessionFiller:
    """For one call: its Graph view (of its workload), and how it claims the sessions it
    makes."""

    def __init__(self, graph: GraphClient, workload: Workload, claimant: Claimant) -> None:
        self._graph = graph
        self._workload = workload
        self._claimant = claimant

    def made(self, session_id: str, granular_artifacts: list[Any] | None = None) -> None:
        """Note a session this call has just made; of a granular one, what it holds."""
        self._claimant.made(session_id, self._holdings(granular_artifacts))

    def _holdings(self, granular_artifacts: list[Any] | None) -> Holdings:
        key = self._claimant.request_key
        if granular_artifacts is None:
            return Holdings(key, granular=False)
        return Holdings(
            key,
            granular=True,
            restore_point_ids=tuple(a.restore_point.id for a in granular_artifacts),
            destinations=tuple(sorted({a.destination_type for a in granular_artifacts})),
            search_response_ids=tuple(sorted({a.search_response_id for a in granular_artifacts})),
        )

    async def create(
        self,
        artifacts: list[Any],
        deadline: Deadline,
        since: float | None,
        granular: bool = False,
        made_id: str = "",
    ) -> pb.RestoreSession:
        """Create with the first 50 artifacts, then PATCH the rest in, 50 at a time. After
        an interrupted attempt (which began at `since`), carry on with the session it
        made: the one its request record names (`made_id`), else one Graph lists.
        Granular mailbox artifacts are never patched in (not documented): at most 50."""
        first = artifacts[:ARTIFACTS_PER_GRAPH_CALL]
        found = None
        if made_id:
            found = await self._made_before(made_id, artifacts, deadline)
        elif since is not None:
            found = await self.look_twice(
                lambda: self._find_created(artifacts, since, deadline, granular),
                time.time(),
                deadline,
            )
        fresh = False  # whether the session is the one this create's answer gave
        if found is None:
            key = self._workload.sessions.artifacts
            if granular:
                key = "granularMailboxRestoreArtifacts"
            body = {key: [session_convert.new_artifact_to_graph(a) for a in first]}
            sent_since = time.time() if since is None else since
            refused_at = 0.0

            async def send() -> tuple[pb.RestoreSession, set[str]]:
                nonlocal fresh, refused_at
                try:
                    answer = await self._graph.create_restore_session(body, deadline)
                except GraphError:
                    refused_at = time.time()
                    raise
                created = session_convert.restore_session_from_graph(answer.body)
                self.made(created.id, first if granular else None)
                fresh = True
                return created, {a.restore_point.id for a in first}

            async def find() -> tuple[pb.RestoreSession, set[str]] | None:
                return await self.look_twice(
                    lambda: self._find_created(artifacts, sent_since, deadline, granular),
                    refused_at,
                    deadline,
                )

            # After a 503 the draft may be there: it is looked for before sending again.
            found = await self._graph.resend_unless_found(send, find, deadline)
        created, present = found
        missing = [a for a in artifacts if a.restore_point.id not in present]
        if not missing:
            return created if fresh else await self._read_back(created.id, deadline)
        session_id = created.id
        if session_id != made_id:
            await self._claimant.keep(session_id)
        try:
            _, refused = await self.add_artifacts(session_id, missing, deadline)
        except GraphError as error:
            error.metadata["restore_session_id"] = session_id
            error.message += f" (session {session_id} was created, partly filled)"
            raise
        if refused:
            raise GraphError(
                refused[0].error.code,
                f"Graph refused {len(refused)} artifacts, first {refused[0].restore_point.id}: "
                f"{refused[0].error.message} (session {session_id} holds the others)",
                http_status=400,
                metadata={"restore_session_id": session_id},
            )
        return await self._read_back(session_id, deadline)

    async def _read_back(self, session_id: str, deadline: Deadline) -> pb.RestoreSession:
        """The session this create made or found, as Graph has it now. Should that read
        fail, the session is there all the same: the failure says so."""
        try:
            return await self.get(session_id, deadline)
        except GraphError as error:
            error.metadata["restore_session_id"] = session_id
            error.may_have_applied = True
            raise

    async def get(self, session_id: str, deadline: Deadline) -> pb.RestoreSession:
        answer = await self._graph.get_restore_session(session_id, deadline)
        return session_convert.restore_session_from_graph(answer.body)

    async def keep(self, session_id: str) -> None:
        """Record a session this call made before anything else is sent to Graph."""
        await self._claimant.keep(session_id)

    async def _made_before(
        self, session_id: str, artifacts: list[Any], deadline: Deadline
    ) -> tuple[pb.RestoreSession, set[str]] | None:
        """The session the interrupted attempt's record names, read by id (lists lag),
        with the restore points it holds; None if Graph no longer has it."""
        try:
            session = await self.get(session_id, deadline)
        except GraphError as error:
            if error.http_status == 404:
                return None
            raise
        _, holdings = await self._claimant.recorded([session_id])
        recorded = holdings.get(session_id, self._holdings(None))
        self._claimant.made(session_id, recorded)
        return session, await self._held_by_own(session, recorded, artifacts, deadline)

    async def look_twice(
        self, look: Callable[[], Awaitable[Found | None]], sent_at: float, deadline: Deadline
    ) -> Found | None:
        """What `look` finds in Graph's lists of a session a create sent by `sent_at` may
        have made; when it finds nothing while the lists may not show that session yet
        (they lag up to list_lag_s), one more look once they do. A deadline too short to
        wait leaves the request for a retry (may have applied: its record is kept)."""
        found = await look()
        wait_s = sent_at + self._graph.list_lag_s - time.time()
        if found is not None or wait_s <= 0:
            return found
        if not deadline.allows(wait_s):
            raise GraphError(
                DEADLINE_EXCEEDED,
                f"Graph's lists may show what the interrupted attempt made only in "
                f"{wait_s:.1f} s: retry with the same request_id and a longer deadline",
                source="gateway",
                may_have_applied=True,
            )
        await asyncio.sleep(wait_s)
        return await look()

    async def _find_created(
        self, artifacts: list[Any], since: float, deadline: Deadline, granular: bool
    ) -> tuple[pb.RestoreSession, set[str]] | None:
        """The draft an interrupted attempt of this request made, with the restore points
        it holds: one this request recorded as its own, or else the one draft that no one
        owns or recorded, created since the attempt began (less clock skew), whose
        contents are what was asked (_contents_match). Refused rather than guessed, for
        any caller (UnreconcilableCreate, naming the drafts for the audit record): more
        than one such draft; one whose contents Graph does not show (granular), which
        could be any mailbox's; one an earlier request could have made (check_unclaimed)."""
        candidates: list[tuple[pb.RestoreSession, set[str], bool]] = []
        async for page in self.recent_drafts(since, deadline):
            owners, holdings = await self._claimant.recorded([s.id for s in page])
            for session in page:
                recorded = holdings.get(session.id)
                if recorded is not None and recorded.request_key == self._claimant.request_key:
                    return session, await self._held_by_own(session, recorded, artifacts, deadline)
                if session.id in owners or recorded is not None:
                    continue  # another request's
                match = await self._contents_match(session, artifacts, granular, deadline)
                if match is not None:
                    candidates.append((session, *match))
        if not candidates:
            return None
        ids = [session.id for session, _, _ in candidates]
        if len(candidates) > 1:
            raise UnreconcilableCreate("RECONCILIATION_AMBIGUOUS", ids)
        [(session, held, seen)] = candidates
        if not seen:
            raise UnreconcilableCreate("RECONCILIATION_UNVERIFIABLE", ids)
        await self.check_unclaimed(
            session.id, self._workload.contents_of(artifacts, granular), since
        )
        if not await self._claimant.claim(session.id):
            return None  # adopted by another caller's retry meanwhile: not ours
        # Adopted: of a granular draft, what it was seen to hold (exactly what was asked).
        self._claimant.made(session.id, self._holdings(artifacts if granular else None))
        log.warning(
            "reconciled: the interrupted create had made a session",
            extra={"fields": {"restore_session_id": session.id}},
        )
        return session, held

    async def check_unclaimed(self, session_id: str, contents: str, since: float) -> None:
        """Refuse a draft with these contents when another request not done yet, which
        asked for the same, began before this one (RECONCILIATION_CLAIMED): it could
        have made the draft (its answer lost too, or its create still in flight), and the
        draft goes to whichever began first. Decided by when each began, not by who
        retries first, so two requests never both adopt one draft, and the one that
        made it never sees it taken and creates a second. Graph's clock may be off by
        RECONCILE_SKEW_S, so when the draft was made does not tell between them; the
        first may not be the one whose create made it, but it asked for exactly what
        the draft holds. A refused request's record is done with the refusal: it no
        longer holds anything back."""
        claimant = self._claimant
        await refuse_if_claimed(claimant.pending, claimant.request_key, session_id, contents, since)

    async def _held_by_own(
        self,
        session: pb.RestoreSession,
        recorded: Holdings,
        artifacts: list[Any],
        deadline: Deadline,
    ) -> set[str]:
        """The restore points a draft this request made holds: as recorded, as asked (a
        granular draft adopted earlier), or as Graph lists them."""
        if recorded.restore_point_ids:
            return set(recorded.restore_point_ids)
        if recorded.granular:
            return {a.restore_point.id for a in artifacts}
        return {a.restore_point.id for a in await self._listed(session, deadline)}

    async def _contents_match(
        self, session: pb.RestoreSession, artifacts: list[Any], granular: bool, deadline: Deadline
    ) -> tuple[set[str], bool] | None:
        """For a draft that could be what was asked: the restore points it holds, and
        whether its contents were seen to be what was asked; else None. Plain: it lists
        every artifact it counts, the first chunk's restore points among them and none
        that was not asked, each to the destination asked (later chunks may not have been
        added yet). Granular: Graph lists none of a granular mailbox draft's artifacts,
        so a draft that lists any is plain and never answers a granular request (nor the
        reverse); where Graph shows them (a session body carrying them) they must be
        exactly those asked, with their searches; else one of as many artifacts could be
        it, unseen."""
        asked = {a.restore_point.id: a.destination_type for a in artifacts}
        total = session.restore_session_artifact_count.total
        shown = list(session.granular_mailbox_restore_artifacts)
        if granular:
            if shown:
                wanted = sorted(_granular_identity(a) for a in artifacts)
                seen = sorted(map(_granular_identity, shown)) == wanted
                return (set(asked), True) if seen else None
            if total != len(artifacts) or await self._listed(session, deadline):
                return None
            return set(asked), False
        if shown:
            return None
        listed = await self._listed(session, deadline)
        held = {a.restore_point.id for a in listed}
        first = {a.restore_point.id for a in artifacts[:ARTIFACTS_PER_GRAPH_CALL]}
        if len(listed) != total or not first <= held <= set(asked):
            return None
        if any(asked[a.restore_point.id] != a.destination_type for a in listed):
            return None
        return held, True

    async def _listed(self, session: pb.RestoreSession, deadline: Deadline) -> list[Any]:
        """The workload's artifacts a draft lists: expanded in its body, or asked for."""
        listed = self._workload.artifacts_of(session)
        if listed or not session.restore_session_artifact_count.total:
            return listed
        return await self._artifacts_of(session.id, deadline)

    async def find_bulk_request(
        self, body: dict[str, Any], session_id: str, since: float, made_id: str, deadline: Deadline
    ) -> tuple[str, dict[str, Any] | None] | None:
        """What an interrupted attempt of a bulk request did, with its session's id: the
        bulk request (same name, destination and names), or None where the attempt's
        session is there but the bulk request must still be sent. Looked for in the
        session the request names; else in the one the attempt's record names (read by
        id: it was recorded before the bulk request was sent); else, for a record that
        names none, in Graph's lists: a draft this request made, or else the one draft
        made since the attempt began that no owner or other request claims (more than
        one: UnreconcilableCreate)."""
        wanted = _bulk_identity(body)
        if session_id:
            found = _matching(await self.bulk_requests_of(session_id, deadline), wanted)
            return None if found is None else (session_id, found)
        if made_id:
            try:
                bulks = await self.bulk_requests_of(made_id, deadline)
            except GraphError as error:
                if error.http_status != 404:
                    raise
                return None  # deleted since: make another
            self.made(made_id)
            return made_id, _matching(bulks, wanted)
        candidates: list[tuple[str, dict[str, Any]]] = []
        async for page in self.recent_drafts(since, deadline):
            owners, holdings = await self._claimant.recorded([s.id for s in page])
            for session in page:
                recorded = holdings.get(session.id)
                ours = recorded is not None and recorded.request_key == self._claimant.request_key
                if not ours and (session.id in owners or recorded is not None):
                    continue  # another request's
                found = _matching(await self.bulk_requests_of(session.id, deadline), wanted)
                if found is not None and ours:
                    return session.id, found
                if found is not None:
                    candidates.append((session.id, found))
        if len(candidates) > 1:
            raise UnreconcilableCreate("RECONCILIATION_AMBIGUOUS", [c[0] for c in candidates])
        if not candidates or not await self._claimant.claim(candidates[0][0]):
            return None
        log.warning(
            "reconciled: the interrupted bulk request had been made",
            extra={"fields": {"restore_session_id": candidates[0][0]}},
        )
        return candidates[0]

    async def adopt_lost_draft(self, since: float, deadline: Deadline) -> str | None:
        """The empty draft a create sent since `since` made though its answer was lost
        (a 504, a 503, no answer), claimed as this call's; "" when the lists show that it
        made none; None when it cannot be told. Graph's lists show a new session only
        after a lag, and no draft says who made it: the drafts no one owns and nothing
        fills, listed at once and again once the lists show that draft; of those only
        the second look shows, the newest is it (older ones were made before this
        create). Only a second look with no such draft made since `since` (less clock
        skew) at all says none was made: lists that caught up early show that draft in
        both looks. Lists that do not lag (list_lag_s 0), a deadline too short to wait,
        or a newest draft that is not free to take, tell nothing."""
        lag_s = self._graph.list_lag_s
        if not lag_s or not deadline.allows(lag_s):
            return None
        listed_at = time.time()
        before = await self._unowned_empty_drafts(since, deadline)
        await asyncio.sleep(max(0.0, listed_at + lag_s - time.time()))
        after = await self._unowned_empty_drafts(since, deadline)
        if not after:
            return ""
        new = sorted((made, draft) for draft, made in after.items() if draft not in before)
        if not new:
            return None
        session_id = new[-1][1]
        if await self.bulk_requests_of(session_id, deadline):
            return None
        if not await self._claimant.claim(session_id):
            return None
        log.warning(
            "reconciled: the create whose answer was lost had made an empty draft",
            extra={"fields": {"restore_session_id": session_id}},
        )
        return session_id

    async def _unowned_empty_drafts(self, since: float, deadline: Deadline) -> dict[str, float]:
        """Drafts made since `since` (less clock skew) that no one owns and that hold
        nothing: id -> when Graph says it made them."""
        drafts: dict[str, float] = {}
        async for page in self.recent_drafts(since, deadline):
            owners, holdings = await self._claimant.recorded([s.id for s in page])
            for session in page:
                if session.id in owners or session.id in holdings:
                    continue
                if not session.restore_session_artifact_count.total:
                    drafts[session.id] = session.created_date_time.ToNanoseconds() / 1e9
        return drafts

    async def recent_drafts(
        self, since: float, deadline: Deadline
    ) -> AsyncIterator[list[pb.RestoreSession]]:
        """The workload's drafts created since `since` (less clock skew), page by page,
        artifacts expanded where Graph documents it (OneDrive's own list). Graph's
        createdBy names Microsoft's own app, whoever called: it tells nothing here."""
        earliest = since - RECONCILE_SKEW_S
        sessions = self._workload.sessions
        expand = {"$expand": sessions.artifacts} if sessions.reads_own_set else {}
        async for body in _pages(
            lambda query: self._graph.list_restore_sessions({**expand, **query}, deadline)
        ):
            page = []
            for item in convert.collection(body, dict):
                if not (sessions.reads_own_set or sessions.holds(item)):
                    continue  # restoreSessions: another workload's
                session = session_convert.restore_session_from_graph(item)
                if (
                    session.status == pb.RESTORE_SESSION_STATUS_DRAFT
                    and session.created_date_time.ToSeconds() >= earliest
                ):
                    page.append(session)
            if page:
                yield page

    async def bulk_requests_of(self, session_id: str, deadline: Deadline) -> list[dict[str, Any]]:
        """Every bulk addition request of a session, page after page, as Graph's bodies."""
        found: list[dict[str, Any]] = []
        next_link = ""
        while True:
            answer = await self._graph.list_bulk_addition_requests(session_id, next_link, deadline)
            found += convert.collection(answer.body, dict)
            next_link = str(answer.body.get("@odata.nextLink") or "")
            if not next_link:
                return found

    async def _artifacts_of(self, session_id: str, deadline: Deadline) -> list[Any]:
        held: list[Any] = []
        artifact_type = self._workload.artifact_type
        async for body in _pages(
            lambda query: self._graph.list_restore_artifacts(session_id, query, deadline)
        ):
            held += convert.collection(
                body, lambda item: session_convert.artifact_from_graph(artifact_type, item)
            )
        return held

    async def add_artifacts(
        self, session_id: str, artifacts: list[Any], deadline: Deadline
    ) -> tuple[list[Any], list[Any]]:
        """Add artifacts, 50 per PATCH: (artifacts added, artifacts Graph refused)."""
        delta = [session_convert.new_artifact_to_graph(a) for a in artifacts]
        reported = await self._patch(session_id, delta, deadline)
        added = [artifact for artifact, kind in reported if kind == session_convert.ADDED]
        refused = [artifact for artifact, kind in reported if kind == session_convert.ADD_FAILED]
        return added, refused

    async def remove_artifacts(
        self, session_id: str, artifact_ids: list[str], deadline: Deadline
    ) -> tuple[list[str], list[Any]]:
        """Remove artifacts, 50 per PATCH: (ids removed, artifacts Graph refused to remove).
        Graph does not echo what it removed: removed is what was asked less what failed."""
        delta = [{"@removed": {"reason": "changed"}, "id": i} for i in artifact_ids]
        reported = await self._patch(session_id, delta, deadline)
        refused = [artifact for artifact, kind in reported if kind == session_convert.REMOVE_FAILED]
        failed_ids = {artifact.id for artifact in refused}
        return [i for i in artifact_ids if i not in failed_ids], refused

    async def _patch(
        self, session_id: str, delta: list[dict[str, Any]], deadline: Deadline
    ) -> list[tuple[Any, str]]:
        """Send a delta in PATCHes of 50, one after the other: each item Graph reported,
        with what it reports (session_convert.delta_item_from_graph)."""
        items = []
        key = f"{self._workload.sessions.artifacts}@delta"
        for chunk in chunks(delta, ARTIFACTS_PER_GRAPH_CALL):
            answer = await self._graph.update_restore_session(session_id, chunk, deadline)
            for item in answer.body.get(key) or []:
                items.append(
                    session_convert.delta_item_from_graph(self._workload.artifact_type, item)
                )
        return items


async def _pages(
    fetch: Callable[[dict[str, str]], Awaitable[GraphAnswer]],
) -> AsyncIterator[dict[str, Any]]:
    """Every page of a Graph collection, the largest pages Graph gives, following the
    next links through their OData options."""
    options: dict[str, str] = {}
    while True:
        answer = await fetch(page_query(MAX_PAGE_SIZE, options))
        yield answer.body
        options = continuation(answer.body.get("@odata.nextLink"))
        if not options:
            return


def _granular_identity(artifact: Any) -> tuple[str, int, str]:
    """What makes two granular mailbox artifacts the same: restore point, destination and
    the search that found their messages."""
    return (artifact.restore_point.id, artifact.destination_type, artifact.search_response_id)


def _matching(bulks: list[dict[str, Any]], wanted: tuple[object, ...]) -> dict[str, Any] | None:
    """The bulk request among `bulks` that is the one `wanted`, if any."""
    return next((bulk for bulk in bulks if _bulk_identity(bulk) == wanted), None)


def _bulk_identity(body: dict[str, Any]) -> tuple[object, ...]:
    """What makes two bulk requests the same request: their name, destination and what
    they name."""
    return (
        body.get("displayName") or "",
        body.get("destinationType") or "",
        *(
            sorted(str(n).lower() for n in body.get(key) or [])
            for key in sorted(name.graph_key for name in BULK_NAMES.values())
        ),
    )
