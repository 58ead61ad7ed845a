"""Session filling (restore/session_filler.py) against an in-memory Graph: 50 artifacts
per call, what a partly filled session tells the caller, and which draft an interrupted
create is allowed to carry on with (and when it must refuse rather than guess)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore_gateway.exceptions import UnreconcilableCreate
from graphrestore_gateway.graph.client import GraphAnswer
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import GraphError
from graphrestore_gateway.records.holdings import Holdings
from graphrestore_gateway.restore.session_filler import (
    ARTIFACTS_PER_GRAPH_CALL,
    RECONCILE_SKEW_S,
    Claimant,
    SessionFiller,
    chunks,
)
from graphrestore_gateway.restore.workloads import ONEDRIVE

T = TypeVar("T")
KEY = "spiffe://corp/bot|CreateRestoreSession|request-1"
DEADLINE = Deadline.after(None)


def answer(body: dict[str, Any]) -> GraphAnswer:
    return GraphAnswer(body, 200, "req", "client-req")


def graph_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Graph:
    """OneDrive sessions as Graph keeps them, and every call the filler made."""

    # Its lists show a new session at once.
    list_lag_s = 0.0

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, int]] = []
        self.refuse: set[str] = set()  # restore points Graph refuses in a PATCH
        self.fail_patch: GraphError | None = None

    def draft(self, points: list[tuple[str, str]], created: float) -> str:
        """A draft holding (restore point, destination) pairs, made at `created`."""
        session_id = f"s-{len(self.sessions) + 1}"
        self.sessions[session_id] = {
            "id": session_id,
            "status": "draft",
            "createdDateTime": graph_time(created),
            "driveRestoreArtifacts": [
                {"id": f"a-{rp}", "restorePoint": {"id": rp}, "destinationType": destination}
                for rp, destination in points
            ],
        }
        return session_id

    def _body(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        count = len(session["driveRestoreArtifacts"])
        return {**session, "restoreSessionArtifactCount": {"total": count}}

    async def create_restore_session(self, body: dict[str, Any], deadline: Any) -> GraphAnswer:
        artifacts = body["driveRestoreArtifacts"]
        self.calls.append(("create", len(artifacts)))
        points = [(a["restorePoint"]["id"], a["destinationType"]) for a in artifacts]
        return answer(self._body(self.draft(points, time.time())))

    async def resend_unless_found(
        self, send: Callable[[], Awaitable[T]], find: Any, deadline: Any
    ) -> T:
        """This Graph never answers 503: what is sent is sent once."""
        return await send()

    async def update_restore_session(
        self, session_id: str, delta: list[dict[str, Any]], deadline: Any
    ) -> GraphAnswer:
        self.calls.append(("patch", len(delta)))
        if self.fail_patch is not None:
            raise self.fail_patch
        echoed = []
        for item in delta:
            if "@removed" in item:
                if item["id"] in self.refuse:
                    echoed.append(refused_item(item["id"], "remove"))
                continue
            rp = item["restorePoint"]["id"]
            if rp in self.refuse:
                echoed.append({**refused_item(rp, "add"), "restorePoint": {"id": rp}})
                continue
            self.sessions[session_id]["driveRestoreArtifacts"].append(
                {"id": f"a-{rp}", "restorePoint": {"id": rp}, "destinationType": "new"}
            )
            echoed.append({"id": f"a-{rp}", "restorePoint": {"id": rp}, "status": "added"})
        return answer({"driveRestoreArtifacts@delta": echoed})

    async def get_restore_session(self, session_id: str, deadline: Any) -> GraphAnswer:
        self.calls.append(("get", 0))
        return answer(self._body(session_id))

    async def list_restore_sessions(self, query: dict[str, str], deadline: Any) -> GraphAnswer:
        self.calls.append(("list", 0))
        return answer({"value": [self._body(s) for s in self.sessions]})

    async def list_restore_artifacts(
        self, session_id: str, query: dict[str, str], deadline: Any
    ) -> GraphAnswer:
        return answer({"value": self.sessions[session_id]["driveRestoreArtifacts"]})


def refused_item(item_id: str, operation: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "@Core.DataModificationException": {
            "info": {"code": "InvalidRestorePoint", "message": "no such restore point"},
            "failedOperation": operation,
            "responseCode": 409,
        },
    }


class Records:
    """The request store as a filler sees it: owners, holdings, pending creates."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.holdings: dict[str, Holdings] = {}
        self.pending: dict[str, float] = {}
        self.claimed: list[str] = []
        self.made: list[str] = []
        self.kept: list[str] = []

    def claimant(self) -> Claimant:
        async def claim(session_id: str) -> bool:
            self.claimed.append(session_id)
            return session_id not in self.owners

        def made(session_id: str, holdings: Holdings) -> None:
            self.made.append(session_id)

        async def recorded(ids: list[str]) -> tuple[dict[str, str], dict[str, Holdings]]:
            return (
                {i: o for i, o in self.owners.items() if i in ids},
                {i: h for i, h in self.holdings.items() if i in ids},
            )

        async def pending(contents: str) -> dict[str, float]:
            return dict(self.pending)

        async def keep(session_id: str) -> None:
            self.kept.append(session_id)

        return Claimant(KEY, claim, made, recorded, pending, keep)


def artifacts(count: int, destination: int = pb.DESTINATION_TYPE_NEW) -> list[Any]:
    return [
        pb.DriveRestoreArtifact(
            restore_point=pb.RestorePoint(id=f"rp-{i}"), destination_type=destination
        )
        for i in range(count)
    ]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def filler(graph: Graph, records: Records) -> SessionFiller:
    return SessionFiller(graph, ONEDRIVE, records.claimant())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(0, []), (1, [1]), (50, [50]), (51, [50, 1]), (100, [50, 50]), (101, [50, 50, 1])],
)
def test_chunks_of_fifty(count: int, sizes: list[int]) -> None:
    assert [len(c) for c in chunks(list(range(count)), ARTIFACTS_PER_GRAPH_CALL)] == sizes


@pytest.mark.parametrize(
    ("count", "calls"),
    [
        (1, [("create", 1)]),
        (50, [("create", 50)]),
        (51, [("create", 50), ("patch", 1), ("get", 0)]),
        (120, [("create", 50), ("patch", 50), ("patch", 20), ("get", 0)]),
    ],
)
def test_a_create_sends_fifty_then_patches_the_rest_fifty_at_a_time(
    count: int, calls: list[tuple[str, int]]
) -> None:
    graph, records = Graph(), Records()
    session = run(filler(graph, records).create(artifacts(count), DEADLINE, since=None))
    assert graph.calls == calls
    assert len(session.drive_restore_artifacts) == count
    assert records.made == [session.id]


def test_artifacts_graph_refuses_are_named_with_the_session_that_holds_the_rest() -> None:
    graph, records = Graph(), Records()
    graph.refuse = {"rp-60", "rp-70"}
    with pytest.raises(GraphError) as refused:
        run(filler(graph, records).create(artifacts(80), DEADLINE, since=None))
    assert refused.value.code == "InvalidRestorePoint"
    assert refused.value.metadata == {"restore_session_id": "s-1"}
    assert "refused 2 artifacts, first rp-60" in refused.value.message


def test_a_failed_patch_tells_which_session_was_made_and_partly_filled() -> None:
    graph, records = Graph(), Records()
    graph.fail_patch = GraphError("serviceNotAvailable", "busy", http_status=503)
    with pytest.raises(GraphError) as failed:
        run(filler(graph, records).create(artifacts(60), DEADLINE, since=None))
    assert failed.value.metadata["restore_session_id"] == "s-1"
    assert "partly filled" in failed.value.message
    assert records.made == ["s-1"]  # recorded as this call's, for the retry to find


def test_removals_graph_does_not_echo_are_the_ones_asked_less_the_refused() -> None:
    graph, records = Graph(), Records()
    session_id = graph.draft([("rp-1", "new"), ("rp-2", "new")], time.time())
    graph.refuse = {"a-rp-2"}
    removed, refused = run(
        filler(graph, records).remove_artifacts(session_id, ["a-rp-1", "a-rp-2"], DEADLINE)
    )
    assert removed == ["a-rp-1"]
    assert [r.id for r in refused] == ["a-rp-2"]


def asked_pairs(count: int, destination: str = "new") -> list[tuple[str, str]]:
    return [(f"rp-{i}", destination) for i in range(count)]


def test_a_retry_carries_on_with_the_one_unclaimed_draft_its_interrupted_create_made() -> None:
    graph, records = Graph(), Records()
    since = time.time()
    draft = graph.draft(asked_pairs(50), since + 1)  # the first chunk got in
    session = run(filler(graph, records).create(artifacts(70), DEADLINE, since=since))
    assert session.id == draft and len(session.drive_restore_artifacts) == 70
    assert ("create", 50) not in graph.calls and ("patch", 20) in graph.calls
    assert records.claimed == [draft] and records.made == [draft]


def test_a_retry_finds_its_own_recorded_draft_whoever_else_could_match() -> None:
    graph, records = Graph(), Records()
    since = time.time()
    graph.draft(asked_pairs(3), since)  # an unrecorded look-alike
    own = graph.draft(asked_pairs(3), since)
    records.holdings[own] = Holdings(KEY, granular=False)
    session = run(filler(graph, records).create(artifacts(3), DEADLINE, since=since))
    assert session.id == own and records.claimed == []


@pytest.mark.parametrize(
    ("drafts", "why"),
    [
        ([(asked_pairs(3), 0.0, "")], "matches"),
        ([(asked_pairs(3), 0.0, "spiffe://corp/other")], "owned by another caller"),
        ([(asked_pairs(3), -RECONCILE_SKEW_S - 60, "")], "made before the attempt"),
        ([(asked_pairs(3, "inPlace"), 0.0, "")], "another destination"),
        ([([*asked_pairs(3), ("rp-other", "new")], 0.0, "")], "holds what was not asked"),
        ([(asked_pairs(2), 0.0, "")], "lacks an artifact of the first chunk"),
    ],
)
def test_which_draft_an_interrupted_create_may_take(
    drafts: list[tuple[list[tuple[str, str]], float, str]], why: str
) -> None:
    graph, records = Graph(), Records()
    since = time.time()
    for points, offset, owner in drafts:
        session_id = graph.draft(points, since + offset)
        if owner:
            records.owners[session_id] = owner
    session = run(filler(graph, records).create(artifacts(3), DEADLINE, since=since))
    took_draft = ("create", 3) not in graph.calls
    assert took_draft is (why == "matches"), why
    assert len(session.drive_restore_artifacts) == 3


def test_two_drafts_that_could_be_it_are_refused_not_guessed() -> None:
    graph, records = Graph(), Records()
    since = time.time()
    first, second = graph.draft(asked_pairs(3), since), graph.draft(asked_pairs(3), since)
    with pytest.raises(UnreconcilableCreate) as refused:
        run(filler(graph, records).create(artifacts(3), DEADLINE, since=since))
    assert refused.value.reason == "RECONCILIATION_AMBIGUOUS"
    assert refused.value.candidates == [first, second]
    assert records.claimed == [] and ("create", 3) not in graph.calls


def test_a_draft_an_earlier_pending_request_could_have_made_goes_to_that_request() -> None:
    graph, records = Graph(), Records()
    since = time.time()
    draft = graph.draft(asked_pairs(3), since)
    records.pending = {"spiffe://corp/other|CreateRestoreSession|r-0": since - 1, KEY: since}
    with pytest.raises(UnreconcilableCreate) as refused:
        run(filler(graph, records).create(artifacts(3), DEADLINE, since=since))
    assert refused.value.reason == "RECONCILIATION_CLAIMED"
    assert refused.value.candidates == [draft] and records.claimed == []


def test_a_later_pending_request_does_not_hold_the_draft_back() -> None:
    graph, records = Graph(), Records()
    since = time.time()
    draft = graph.draft(asked_pairs(3), since)
    records.pending = {"spiffe://corp/other|CreateRestoreSession|r-9": since + 1, KEY: since}
    session = run(filler(graph, records).create(artifacts(3), DEADLINE, since=since))
    assert session.id == draft
