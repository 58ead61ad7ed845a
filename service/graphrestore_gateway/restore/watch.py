"""Following restore sessions: one Graph poll loop per session, however many watch it.

The loop is the gateway's, not a caller's: its Graph calls are charged to the gateway's
share of the budget, and throttling or a passing Graph failure only slows it down. Only
Graph's definite answer (the session is gone, access refused) ends the watchers' streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import GraphError

POLL_MIN_S = 1.0
POLL_MAX_S = 15.0
POLL_BACKOFF = 1.5
POLL_TIMEOUT_S = 30.0
TERMINAL_STATUSES = frozenset({"completed", "completedWithError", "failed"})

log = logging.getLogger(__name__)

# What a watcher's queue carries: a session body, the error that ended the loop, or None
# once the session is terminal.
Event = dict[str, Any] | GraphError | None
Item = TypeVar("Item")


def _progress(body: dict[str, Any]) -> tuple[Any, Any]:
    """What a watcher cares about: status and artifact counts."""
    return body.get("status"), body.get("restoreSessionArtifactCount")


def _finished(body: dict[str, Any]) -> tuple[int, int]:
    """(artifacts finished, artifacts in all) of a session body."""
    counts = body.get("restoreSessionArtifactCount")
    if not isinstance(counts, dict):
        return 0, 0
    numbers = {k: v if isinstance(v, int) else 0 for k, v in counts.items()}
    return numbers.get("completed", 0) + numbers.get("failed", 0), numbers.get("total", 0)


@dataclass
class Pace:
    """When to read a restoring session next: a session restores its artifacts at an even
    pace, so once two reads have seen artifacts finish, the next is when that pace says
    it ends (at least POLL_MIN_S, at most POLL_MAX_S away, so watchers still see it move),
    not every second while the counts change."""

    # (when, artifacts finished) at the first read that saw any finished.
    first: tuple[float, int] | None = None

    def next_poll_s(self, body: dict[str, Any], now_s: float) -> float:
        finished, total = _finished(body)
        if self.first is None:
            if finished:
                self.first = (now_s, finished)
            return POLL_MIN_S
        first_s, first_finished = self.first
        if finished <= first_finished:
            return POLL_MIN_S
        per_artifact_s = (now_s - first_s) / (finished - first_finished)
        return min(POLL_MAX_S, max(POLL_MIN_S, (total - finished) * per_artifact_s))


@dataclass
class _PollLoop:
    session_id: str
    watchers: set[asyncio.Queue[Event]] = field(default_factory=set)
    last_body: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = None


class SessionWatcher:
    """Polls Graph for watched sessions with backoff, and fans each change out."""

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph
        self._loops: dict[str, _PollLoop] = {}

    async def watch(self, session_id: str) -> AsyncIterator[dict[str, Any]]:
        """Yield the session's Graph body now and on every change, until it is terminal.
        Raises GraphError when Graph fails (e.g. the session does not exist)."""
        loop = self._loops.get(session_id)
        if loop is None:
            loop = self._loops[session_id] = _PollLoop(session_id)
            loop.task = asyncio.create_task(self._poll(loop))
        queue: asyncio.Queue[Event] = asyncio.Queue()
        if loop.last_body is not None:
            queue.put_nowait(loop.last_body)
        loop.watchers.add(queue)
        try:
            while True:
                event = await queue.get()
                if event is None:
                    return
                if isinstance(event, GraphError):
                    raise event
                yield event
        finally:
            loop.watchers.discard(queue)
            if not loop.watchers and loop.task is not None and not loop.task.done():
                loop.task.cancel()
                self._loops.pop(session_id, None)

    async def _poll(self, loop: _PollLoop) -> None:
        interval_s = POLL_MIN_S
        pace = Pace()
        try:
            while True:
                try:
                    answer = await self._graph.get_restore_session(
                        loop.session_id, Deadline.after(POLL_TIMEOUT_S)
                    )
                except GraphError as error:
                    if _ends_watching(error):
                        self._send(loop, error)
                        return
                    log.warning(
                        "watch poll failed; trying again",
                        extra={"fields": {"graph_code": error.code, "session": loop.session_id}},
                    )
                    interval_s = min(POLL_MAX_S, max(interval_s, error.retry_after_s or 0.0))
                    await asyncio.sleep(interval_s)
                    continue
                body = answer.body
                changed = loop.last_body is None or _progress(body) != _progress(loop.last_body)
                if changed:
                    loop.last_body = body
                    self._send(loop, body)
                    interval_s = pace.next_poll_s(body, time.monotonic())
                else:
                    interval_s = min(POLL_MAX_S, interval_s * POLL_BACKOFF)
                if body.get("status") in TERMINAL_STATUSES:
                    self._send(loop, None)
                    return
                await asyncio.sleep(interval_s)
        finally:
            self._loops.pop(loop.session_id, None)

    @staticmethod
    def _send(loop: _PollLoop, event: Event) -> None:
        for queue in loop.watchers:
            queue.put_nowait(event)


def _ends_watching(error: GraphError) -> bool:
    """Graph's definite refusal; throttling, 5xx and lost answers are waited out."""
    return error.source == "graph" and 400 <= error.http_status < 500 and error.http_status != 429


async def until_revoked(
    stream: AsyncIterator[Item], revoked: asyncio.Future[None]
) -> AsyncIterator[Item]:
    """The items of `stream` until `revoked` is done: then its exception is raised (the
    caller may no longer watch), whether or not the stream has anything new to say."""
    while True:
        step = asyncio.ensure_future(anext(stream))
        either: set[asyncio.Future[Any]] = {step, revoked}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not step.done():
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await step
        if step.cancelled():
            revoked.result()
        try:
            item = step.result()
        except StopAsyncIteration:
            return
        yield item
