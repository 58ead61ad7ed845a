"""Running a mutating RPC at most once per (caller, method, request_id), and answering
every retry with the first answer."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from google.rpc.error_details_pb2 import BadRequest

from graphrestore_gateway import metrics
from graphrestore_gateway.exceptions import InvalidRequest, Refusal
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import DEADLINE_EXCEEDED, GraphError
from graphrestore_gateway.records.holdings import Holdings
from graphrestore_gateway.records.store import DONE, HEARTBEAT_S, RequestStore

POLL_S = 0.2
# Failures after which nothing happened in Graph: the record is dropped, a retry runs again.
RETRY_AGAIN = frozenset(
    {
        code_pb2.UNAVAILABLE,
        code_pb2.RESOURCE_EXHAUSTED,
        code_pb2.DEADLINE_EXCEEDED,
        code_pb2.ABORTED,
    }
)

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Attempt:
    """One run of a request's work: the key of its request record ("" without a
    request_id), and when an interrupted attempt with the same request_id began (None on
    a first attempt): what that attempt did in Graph must be found before anything is
    done again."""

    request_key: str
    interrupted_at: float | None
    # The session the interrupted attempt made, as its record names it ("" if none was
    # named): looked up by id.
    interrupted_made: str = ""


@dataclass(frozen=True)
class Made:
    """What a call made in Graph: ownership key -> owner, and session key -> what the
    gateway keeps of it (records/holdings.py). Written with the answer."""

    owners: dict[str, str] = field(default_factory=dict)
    holdings: dict[str, Holdings] = field(default_factory=dict)


# How a failure is answered: the status a retry is given again.
StatusOf = Callable[[Exception], status_pb2.Status]


class Job(Protocol[M]):
    """One mutating call, as exactly-once runs it."""

    # Who asked for what: the request record is (caller, method, request_id); no
    # request_id, no record.
    caller: str
    method: str
    request_id: str
    request: Message
    # What it asks Graph to make ("" for anything but a create), kept with its record:
    # while that is pending, a draft with these contents is claimed by it.
    contents: str
    answer_type: type[M]
    deadline: Deadline

    async def work(self, attempt: Attempt) -> M:
        """Do it in Graph (an interrupted attempt's work found first)."""

    async def answered(self, answer: M) -> None:
        """What else must be durable before a fresh answer leaves (the audit record),
        written beside the answer's record."""

    def made(self) -> Made:
        """What the work has made in Graph so far."""


class StoredAnswer(Exception):
    """End the RPC with this status (a replayed refusal, or a reused request id)."""

    def __init__(self, status: status_pb2.Status) -> None:
        super().__init__(status.message)
        self.status = status


def request_hash(method: str, request: Message) -> str:
    return hashlib.sha256(
        method.encode() + request.SerializeToString(deterministic=True)
    ).hexdigest()


class ExactlyOnce:
    def __init__(self, store: RequestStore, status_of: StatusOf) -> None:
        self._store = store
        self._status_of = status_of
        # Attempts still running, some of them for callers that have gone.
        self._running: set[asyncio.Task[Any]] = set()

    async def run(self, job: Job[M]) -> M:
        """Run the job's work at most once for its request_id; its audit record and what
        it made are written at the same time as the answer's record."""
        request_id = job.request_id
        if not request_id:
            return await self._execute(job, Attempt("", None))
        key = f"{job.caller}|{job.method}|{request_id}"
        digest = request_hash(job.method, job.request)
        while True:
            record = await self._store.claim(key, digest, job.contents)
            if record is None:
                return await self._execute(job, Attempt(key, None))
            if record.request_hash != digest:
                raise InvalidRequest(
                    [
                        BadRequest.FieldViolation(
                            field="request_id",
                            description="was already used for a different request (AIP-155)",
                        )
                    ]
                )
            if record.state == DONE:
                metrics.REQUEST_RECORDS.labels("replayed").inc()
                log.info("replaying the first answer", extra={"fields": {"request_id": request_id}})
                if record.kind == "ok":
                    answer = job.answer_type()
                    answer.ParseFromString(record.payload)
                    return answer
                raise StoredAnswer(status_pb2.Status.FromString(record.payload))
            if record.lease_expired(time.time()):
                if await self._store.take_over(key, record):
                    metrics.REQUEST_RECORDS.labels("reconciled").inc()
                    log.warning(
                        "reconciling an interrupted request",
                        extra={"fields": {"request_id": request_id}},
                    )
                    interrupted = Attempt(key, record.created_at, record.made)
                    return await self._execute(job, interrupted)
                continue
            # The first attempt is still running (here or on another replica): wait for it.
            if not job.deadline.allows(POLL_S):
                raise GraphError(
                    "requestInProgress",
                    "the first attempt with this request_id is still running",
                    source="gateway",
                    retry_after_s=1.0,
                )
            await asyncio.sleep(POLL_S)

    async def _execute(self, job: Job[M], attempt: Attempt) -> M:
        """Run the attempt as a task the call does not own, and wait for its answer until
        the caller's deadline. A caller that gives up (deadline, cancellation) leaves the
        attempt running: once Graph has answered, what it made and its answer are
        recorded all the same, and a retry gets them instead of reconciling."""
        produced: asyncio.Future[M] = asyncio.get_running_loop().create_future()
        running = asyncio.ensure_future(self._attempt(job, attempt, produced))
        self._running.add(running)
        running.add_done_callback(self._forget)
        # asyncio.wait cancels neither on timeout nor when this call is cancelled.
        await asyncio.wait(
            (produced, running), timeout=job.deadline.remaining_s(), return_when=FIRST_COMPLETED
        )
        if not produced.done():
            if running.done():
                running.result()  # raises what the attempt failed with
            raise GraphError(
                DEADLINE_EXCEEDED,
                "the caller's deadline ran out while Graph worked; a retry with the same "
                "request_id gets the answer",
                source="gateway",
                may_have_applied=True,
            )
        answer = produced.result()
        await asyncio.gather(asyncio.shield(running), job.answered(answer))
        return answer

    def _forget(self, attempt: asyncio.Task[Any]) -> None:
        self._running.discard(attempt)
        if not attempt.cancelled():
            attempt.exception()  # retrieved: its caller may have gone; the record says it

    async def _attempt(self, job: Job[M], attempt: Attempt, produced: asyncio.Future[M]) -> M:
        key = attempt.request_key
        heartbeat = Heartbeat(self._store, key) if key else None
        try:
            answer = await job.work(attempt)
        except (GraphError, Refusal) as error:
            await self._record_failure(key, error, job.made())
            raise
        except BaseException:
            # Cancelled (the gateway stops) or crashed mid-way: the next retry reconciles.
            done = job.made()
            await asyncio.shield(self._store.record_owners(done.owners, done.holdings))
            if key:
                await asyncio.shield(self._store.expire_lease(key))
            raise
        finally:
            if heartbeat is not None:
                heartbeat.stop()
        produced.set_result(answer)
        done = job.made()
        if key:
            await self._store.finish(
                key, "ok", answer.SerializeToString(), done.owners, done.holdings
            )
        else:
            await self._store.record_owners(done.owners, done.holdings)
        return answer

    async def _record_failure(self, key: str, error: GraphError | Refusal, done: Made) -> None:
        """What the failed work made, and its record: left for reconciliation when Graph
        may have done something, dropped when nothing happened, else the refusal to
        replay. A failure worth a retry after the work made something (a session made,
        its filling cut short) is reconciled too: running again would make another."""
        status = self._status_of(error)
        retry_again = status.code in RETRY_AGAIN
        may_have_applied = isinstance(error, GraphError) and error.may_have_applied
        if not key or may_have_applied or (retry_again and done.owners):
            # Owners first: a retry that takes the record over must find them.
            await self._store.record_owners(done.owners, done.holdings)
            if key:
                await self._store.expire_lease(key)
        elif retry_again:  # nothing was made
            await self._store.release(key)
        else:
            await self._store.finish(
                key, "error", status.SerializeToString(), done.owners, done.holdings
            )

    async def drain(self, within_s: float) -> None:
        """Wait (up to `within_s`) for attempts whose callers have gone, so that what
        they made is recorded before the process ends."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=within_s)


class Heartbeat:
    """Renews a request record's lease every HEARTBEAT_S while its work runs. A timer,
    not a task: most calls end long before the first beat."""

    def __init__(self, store: RequestStore, key: str) -> None:
        self._store = store
        self._key = key
        self._loop = asyncio.get_running_loop()
        self._timer = self._loop.call_later(HEARTBEAT_S, self._beat)
        # The renewal in flight: held, so the loop's weak reference is not its only one.
        self._renewal: asyncio.Future[None] | None = None

    def _beat(self) -> None:
        self._renewal = asyncio.ensure_future(self._store.renew(self._key))
        self._timer = self._loop.call_later(HEARTBEAT_S, self._beat)

    def stop(self) -> None:
        self._timer.cancel()
