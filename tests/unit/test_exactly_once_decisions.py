"""Exactly-once (records/exactly_once.py) over a SQLite store in tmp_path: what a retry
with the same request_id gets, when the work runs again, and when a request id cannot be
reused (another request, another caller, method or workload)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from google.rpc import code_pb2
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore_gateway.exceptions import Denied, InvalidRequest
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import DEADLINE_EXCEEDED, GraphError
from graphrestore_gateway.records.exactly_once import Attempt, ExactlyOnce, Made, StoredAnswer
from graphrestore_gateway.records.sqlite_store import SqliteStore
from graphrestore_gateway.restore.workloads import WORKLOADS
from graphrestore_gateway.rpc.status import status_of
from helpers import wait_until

REQUEST_ID = "0b6f5f6e-8a43-4a4e-9a57-5d2b3f4c1a20"
T = TypeVar("T")


@dataclass
class Job:
    """A create as exactly-once runs it: its work counts its runs, and can be held or
    made to fail."""

    caller: str = "spiffe://corp/bot"
    method: str = "CreateRestoreSession"
    request_id: str = REQUEST_ID
    request: Any = field(
        default_factory=lambda: service_pb.CreateRestoreSessionRequest(request_id=REQUEST_ID)
    )
    contents: str = ""
    answer_type: type[pb.RestoreSession] = pb.RestoreSession
    deadline: Deadline = field(default_factory=lambda: Deadline.after(10))
    fails_with: Exception | None = None
    makes: dict[str, str] = field(default_factory=dict)
    hold: asyncio.Event | None = None
    attempts: list[Attempt] = field(default_factory=list)

    async def work(self, attempt: Attempt) -> pb.RestoreSession:
        self.attempts.append(attempt)
        if self.hold is not None:
            await self.hold.wait()
        if self.fails_with is not None:
            raise self.fails_with
        return pb.RestoreSession(id=f"session-{len(self.attempts)}")

    async def answered(self, answer: pb.RestoreSession) -> None:
        pass

    def made(self) -> Made:
        return Made(owners=dict(self.makes))


def run(scenario: Callable[[ExactlyOnce], Awaitable[T]], tmp_path: Path) -> T:
    async def main() -> T:
        return await scenario(ExactlyOnce(SqliteStore(tmp_path / "requests.sqlite3"), status_of))

    return asyncio.run(main())


def test_a_retry_gets_the_first_answer_and_the_work_runs_once(tmp_path: Path) -> None:
    job = Job()

    async def scenario(once: ExactlyOnce) -> list[str]:
        return [(await once.run(job)).id for _ in range(3)]

    assert run(scenario, tmp_path) == ["session-1"] * 3
    assert job.attempts == [Attempt(f"{job.caller}|{job.method}|{REQUEST_ID}", None)]


def test_without_a_request_id_every_call_runs(tmp_path: Path) -> None:
    job = Job(request_id="")

    async def scenario(once: ExactlyOnce) -> list[str]:
        return [(await once.run(job)).id for _ in range(2)]

    assert run(scenario, tmp_path) == ["session-1", "session-2"]


def test_a_request_id_reused_for_another_request_is_refused(tmp_path: Path) -> None:
    first = Job()
    other = Job(
        request=service_pb.CreateRestoreSessionRequest(
            request_id=REQUEST_ID,
            restore_session=pb.RestoreSession(
                drive_restore_artifacts=[pb.DriveRestoreArtifact(destination_type=1)]
            ),
        )
    )

    async def scenario(once: ExactlyOnce) -> None:
        await once.run(first)
        await once.run(other)

    with pytest.raises(InvalidRequest) as refused:
        run(scenario, tmp_path)
    assert [v.field for v in refused.value.violations] == ["request_id"]
    assert other.attempts == []


@pytest.mark.parametrize(
    "second",
    [
        Job(caller="spiffe://corp/other"),
        Job(method="DeleteRestoreSession"),
        Job(method=WORKLOADS["sharepoint"].scoped("CreateRestoreSession")),
        Job(method=WORKLOADS["exchange"].scoped("CreateRestoreSession")),
    ],
    ids=["another caller", "another method", "sharepoint", "exchange"],
)
def test_the_same_request_id_of_another_caller_method_or_workload_is_its_own(
    second: Job, tmp_path: Path
) -> None:
    """One caller's request id never replays another's answer (nor blocks it)."""
    first = Job(method=WORKLOADS["onedrive"].scoped("CreateRestoreSession"))

    async def scenario(once: ExactlyOnce) -> tuple[str, str]:
        return (await once.run(first)).id, (await once.run(second)).id

    assert run(scenario, tmp_path) == ("session-1", "session-1")
    assert len(first.attempts) == len(second.attempts) == 1


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (GraphError("InvalidRestorePoint", "bad", http_status=400), code_pb2.INVALID_ARGUMENT),
        (GraphError("RestoreSessionNotFound", "gone", http_status=404), code_pb2.NOT_FOUND),
        (GraphError("Forbidden", "no", http_status=403), code_pb2.PERMISSION_DENIED),
        (Denied("not allowed", "METHOD_NOT_ALLOWED"), code_pb2.PERMISSION_DENIED),
    ],
    ids=["graph 400", "graph 404", "graph 403", "refusal"],
)
def test_a_final_failure_is_replayed_without_running_again(
    error: Exception, code: int, tmp_path: Path
) -> None:
    job = Job(fails_with=error)

    async def scenario(once: ExactlyOnce) -> int:
        with pytest.raises(type(error)):
            await once.run(job)
        with pytest.raises(StoredAnswer) as replayed:
            await once.run(job)
        return replayed.value.status.code

    assert run(scenario, tmp_path) == code
    assert len(job.attempts) == 1


@pytest.mark.parametrize(
    "error",
    [
        GraphError("serviceNotAvailable", "busy", http_status=503),
        GraphError("TooManyRequests", "slow", http_status=429, retry_after_s=1),
        GraphError("Conflict", "conflict", http_status=409),
        GraphError(DEADLINE_EXCEEDED, "late", source="gateway"),
    ],
    ids=["503", "429", "409", "deadline"],
)
def test_a_failure_after_which_nothing_happened_runs_again_on_retry(
    error: GraphError, tmp_path: Path
) -> None:
    job = Job(fails_with=error)

    async def scenario(once: ExactlyOnce) -> str:
        with pytest.raises(GraphError):
            await once.run(job)
        job.fails_with = None
        return (await once.run(job)).id

    assert run(scenario, tmp_path) == "session-2"
    assert [a.interrupted_at for a in job.attempts] == [None, None]


@pytest.mark.parametrize(
    "error",
    [
        GraphError("graphAnswerLost", "lost", source="gateway", may_have_applied=True),
        GraphError("serviceNotAvailable", "busy", http_status=503),
    ],
    ids=["may have applied", "retryable after making something"],
)
def test_a_failure_that_may_have_made_something_is_reconciled_on_retry(
    error: GraphError, tmp_path: Path
) -> None:
    """The retry is told when the interrupted attempt began, so that it finds what that
    attempt made instead of making a second one."""
    job = Job(fails_with=error, makes={"session:s-1": "spiffe://corp/bot"})

    async def scenario(once: ExactlyOnce) -> str:
        with pytest.raises(GraphError):
            await once.run(job)
        job.fails_with = None
        return (await once.run(job)).id

    assert run(scenario, tmp_path) == "session-2"
    first, retry = job.attempts
    assert first.interrupted_at is None and retry.interrupted_at is not None


def test_a_retry_while_the_first_attempt_runs_is_told_it_is_in_progress(tmp_path: Path) -> None:
    job = Job(hold=None)

    async def scenario(once: ExactlyOnce) -> tuple[GraphError, str]:
        job.hold = asyncio.Event()
        first = asyncio.create_task(once.run(job))
        # The first attempt has claimed the record and runs.
        assert await wait_until(lambda: bool(job.attempts))
        impatient = Job(deadline=Deadline.after(0.1))
        with pytest.raises(GraphError) as in_progress:
            await once.run(impatient)
        job.hold.set()
        return in_progress.value, (await first).id

    in_progress, answer = run(scenario, tmp_path)
    assert in_progress.code == "requestInProgress" and in_progress.retry_after_s == 1.0
    assert status_of(in_progress).code == code_pb2.UNAVAILABLE
    assert answer == "session-1"


def test_a_retry_that_waits_gets_the_first_attempts_answer(tmp_path: Path) -> None:
    job = Job()

    async def scenario(once: ExactlyOnce) -> tuple[str, str]:
        job.hold = asyncio.Event()
        first = asyncio.create_task(once.run(job))
        assert await wait_until(lambda: bool(job.attempts))
        retry = asyncio.create_task(once.run(Job()))
        job.hold.set()
        return (await first).id, (await retry).id

    assert run(scenario, tmp_path) == ("session-1", "session-1")
    assert len(job.attempts) == 1


def test_an_answer_graph_gives_after_the_callers_deadline_is_kept_for_its_retry(
    tmp_path: Path,
) -> None:
    job = Job(deadline=Deadline.after(0))

    async def scenario(once: ExactlyOnce) -> tuple[GraphError, str]:
        job.hold = asyncio.Event()
        with pytest.raises(GraphError) as late:
            await once.run(job)
        job.hold.set()
        await once.drain(within_s=10)
        job.deadline = Deadline.after(10)
        return late.value, (await once.run(job)).id

    late, answer = run(scenario, tmp_path)
    assert late.code == DEADLINE_EXCEEDED and late.may_have_applied
    assert answer == "session-1" and len(job.attempts) == 1
