"""Running a mutating RPC at most once per (caller, method, request_id), and answering
every retry with the first answer."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from google.rpc.error_details_pb2 import BadRequest

from graphrestore_gateway import metrics
from graphrestore_gateway.exceptions import InvalidRequest, Refusal
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import GraphError
from graphrestore_gateway.records.store import DONE, HEARTBEAT_S, IdempotencyStore

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
# work(deadline, since): with `since` (when an interrupted attempt began), first find
# what that attempt did in Graph.
Work = Callable[[Deadline, float | None], Awaitable[M]]
# How a failure is answered: the status a retry is given again.
StatusOf = Callable[[Exception], status_pb2.Status]
# What else must be durable before a fresh answer leaves (written beside its record).
Answered = Callable[[M], Awaitable[None]]
# Ownership keys of what the work made -> their owner, written with the answer.
Owners = Callable[[], dict[str, str]]


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
    def __init__(self, store: IdempotencyStore, status_of: StatusOf) -> None:
        self._store = store
        self._status_of = status_of

    async def run(
        self,
        caller: str,
        method: str,
        request_id: str,
        request: Message,
        answer_type: type[M],
        work: Work[M],
        deadline: Deadline,
        answered: Answered[M] | None = None,
        owners: Owners = dict,
    ) -> M:
        """Run `work` at most once for this request_id; `answered` (the audit record) and
        the owners of what it made are written at the same time as the answer's record."""
        if not request_id:
            try:
                answer = await work(deadline, None)
            finally:
                await self._store.record_owners(owners())
            if answered is not None:
                await answered(answer)
            return answer
        key = f"{caller}|{method}|{request_id}"
        digest = request_hash(method, request)
        while True:
            record = await self._store.claim(key, digest)
            if record is None:
                return await self._execute(key, work, deadline, None, answered, owners)
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
                    answer = answer_type()
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
                    return await self._execute(
                        key, work, deadline, record.created_at, answered, owners
                    )
                continue
            # The first attempt is still running (here or on another replica): wait for it.
            if not deadline.allows(POLL_S):
                raise GraphError(
                    "requestInProgress",
                    "the first attempt with this request_id is still running",
                    source="gateway",
                    retry_after_s=1.0,
                )
            await asyncio.sleep(POLL_S)

    async def _execute(
        self,
        key: str,
        work: Work[M],
        deadline: Deadline,
        since: float | None,
        answered: Answered[M] | None,
        owners: Owners,
    ) -> M:
        heartbeat = Heartbeat(self._store, key)
        try:
            answer = await work(deadline, since)
        except (GraphError, Refusal) as error:
            status = self._status_of(error)
            if isinstance(error, GraphError) and error.may_have_applied:
                await self._store.expire_lease(key)
                await self._store.record_owners(owners())
            elif status.code in RETRY_AGAIN:
                await self._store.release(key)
                await self._store.record_owners(owners())
            else:
                await self._store.finish(key, "error", status.SerializeToString(), owners())
            raise
        except BaseException:
            # Cancelled or crashed mid-way: the next retry reconciles.
            await asyncio.shield(self._store.expire_lease(key))
            raise
        finally:
            heartbeat.stop()
        finished = self._store.finish(key, "ok", answer.SerializeToString(), owners())
        if answered is None:
            await finished
        else:
            await asyncio.gather(finished, answered(answer))
        return answer


class Heartbeat:
    """Renews a request record's lease every HEARTBEAT_S while its work runs. A timer,
    not a task: most calls end long before the first beat."""

    def __init__(self, store: IdempotencyStore, key: str) -> None:
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
