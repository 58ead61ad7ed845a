"""Scripted faults and per-request bookkeeping (request ids, counters), as one ASGI middleware."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_emulator.counters import Counters
from graph_emulator.graph import error_response
from graph_emulator.realistic import Realism

FAULT_KINDS = frozenset(
    {
        "status",  # answer with a status (Graph error body or `body`), plus Retry-After
        "delay",  # wait delay_s, then serve normally
        "drop",  # close the connection without answering
        "malformed",  # answer `status` with a body that is not JSON
        "truncated",  # serve, but cut the body short and close
        "apply_then_drop",  # do the work, then close without answering (response lost)
        "apply_then_status",  # do the work, then answer `status` as if it failed
    }
)
# GUIDs, and browse session ids (not GUIDs) after their entity sets.
_ID_SEGMENT = re.compile(r"/[0-9a-fA-F-]{36}(?=/|$)|(?<=rowseSessions)/[^/]+")


@dataclass
class FaultRule:
    """One scripted fault for requests matching `method` and the `path` regex."""

    kind: str
    path: re.Pattern[str]
    method: str | None = None
    status: int = 500
    code: str = "InternalServerError"
    message: str = "Injected fault."
    retry_after_s: float | None = None
    # Retry-After as an HTTP date (RFC 9110) retry_after_s from now, not in seconds.
    retry_after_date: bool = False
    delay_s: float = 0.0
    body: Any = None
    times: int = 1
    # Retry-After exactly as sent (the realistic profile's dates); else retry_after_s.
    retry_after: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        kind = data.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}")
        times = int(data.get("times", 1))
        if times < 1:
            raise ValueError("times must be at least 1")
        return cls(
            kind=kind,
            path=re.compile(str(data.get("path", ".*"))),
            method=data.get("method"),
            status=int(data.get("status", 500)),
            code=str(data.get("code", "InternalServerError")),
            message=str(data.get("message", "Injected fault.")),
            retry_after_s=data.get("retry_after_s"),
            retry_after_date=bool(data.get("retry_after_date", False)),
            delay_s=float(data.get("delay_s", 0.0)),
            body=data.get("body"),
            times=times,
        )

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.path.search(path))


class FaultBook:
    """The faults waiting to fire, first match wins, each for `times` requests."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method, path):
                rule.times -= 1
                if rule.times == 0:
                    self.rules.remove(rule)
                return rule
        return None


class GraphMiddleware:
    """Gives every answer Graph's request-id headers, counts it, and injects faults."""

    def __init__(
        self,
        app: ASGIApp,
        faults: FaultBook,
        counters: Counters,
        journal: deque[dict[str, Any]],
        realism: Realism | None = None,
    ) -> None:
        self.app = app
        self.faults = faults
        self.counters = counters
        self.journal = journal
        self.realism = realism

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = str(uuid.uuid4())
        client_request_id = headers.get(b"client-request-id", b"").decode("latin-1")
        scope["graph_request_id"] = request_id
        scope["graph_client_request_id"] = client_request_id
        extra_headers = [(b"request-id", request_id.encode())]
        if client_request_id:
            extra_headers.append((b"client-request-id", client_request_id.encode("latin-1")))
        outcome = "dropped"

        async def send_with_ids(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = str(message["status"])
                message = {**message, "headers": [*message.get("headers", []), *extra_headers]}
            await send(message)

        method, path = scope["method"], scope["path"]
        body = await _read_body(receive)
        receive = _replay(body)
        self.journal.append(
            {
                "time": time.time(),
                "method": method,
                "path": path,
                "query": scope["query_string"].decode("latin-1"),
                "client_request_id": client_request_id,
                "prefer": headers.get(b"prefer", b"").decode("latin-1"),
                "content_type": headers.get(b"content-type", b"").decode("latin-1"),
                "accept": headers.get(b"accept", b"").decode("latin-1"),
                # Token requests carry secrets: keep only Graph bodies.
                "body": body.decode("utf-8", errors="replace") if path.startswith("/v1.0/") else "",
            }
        )
        route = f"{method} {_ID_SEGMENT.sub('/{id}', path)}"
        self.counters.received[route] += 1
        rule = self.faults.take(method, path)
        fault = rule.kind if rule else ""
        if rule is None and self.realism is not None and path.startswith("/v1.0/"):
            rule = _realistic_fault(self.realism, method)
            after_work = rule is not None and rule.kind == "apply_then_status"
            fault = f"realistic {rule.status}{' after work' if after_work else ''}" if rule else ""
        try:
            if rule is None:
                await self.app(scope, receive, send_with_ids)
            else:
                self.counters.faults_injected[fault] += 1
                await self._inject(rule, scope, receive, send, send_with_ids)
        finally:
            self.counters.requests[f"{route} {outcome}"] += 1

    async def _inject(
        self, rule: FaultRule, scope: Scope, receive: Receive, send: Send, send_with_ids: Send
    ) -> None:
        if rule.kind == "delay":
            await asyncio.sleep(rule.delay_s)
            await self.app(scope, receive, send_with_ids)
        elif rule.kind == "drop":
            await _drop_connection(send)
        elif rule.kind == "status":
            await _send_error(rule, scope, send_with_ids)
        elif rule.kind == "malformed":
            await _send_raw(send_with_ids, rule.status, b'{"id": "9a1c', len(b'{"id": "9a1c'))
        elif rule.kind == "truncated":
            start, body = await _capture(self.app, scope, receive)
            await _send_raw(send_with_ids, start["status"], body[: len(body) // 2], len(body))
            await _drop_connection(send)
        else:
            await _capture(self.app, scope, receive)
            # The work is done; hold the lost answer a while (time to kill a gateway).
            await asyncio.sleep(rule.delay_s)
            if rule.kind == "apply_then_drop":
                await _drop_connection(send)
            else:
                await _send_error(rule, scope, send_with_ids)


# The throttling guidance's 429 (graph-examples/error-429.json).
THROTTLED = FaultRule(
    kind="status",
    path=re.compile(""),
    status=429,
    code="TooManyRequests",
    message="Please retry again later.",
)
TRANSIENT_CODES = {503: "serviceNotAvailable", 504: "gatewayTimeout"}


def _realistic_fault(realism: Realism, method: str) -> FaultRule | None:
    """What the realistic profile does to this Graph request: throttle it (the tenant's
    budget is spent), fail it now and then, or nothing."""
    retry_after = realism.throttle()
    if retry_after is not None:
        return FaultRule(**{**THROTTLED.__dict__, "retry_after": retry_after})
    transient = realism.transient(method)
    if transient is None:
        return None
    status, retry_after, after_work = transient
    return FaultRule(
        kind="apply_then_status" if after_work else "status",
        path=THROTTLED.path,
        status=status,
        code=TRANSIENT_CODES[status],
        message="The service is temporarily unavailable." if status == 503 else "Timed out.",
        retry_after=retry_after or "",
    )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A receive that hands the already-read body to the app once."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    """Run the app and keep its answer instead of sending it."""
    start: Message = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(chunks)


async def _send_raw(send: Send, status: int, body: bytes, content_length: int) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(content_length).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _send_error(rule: FaultRule, scope: Scope, send: Send) -> None:
    headers = {}
    if rule.retry_after:
        headers["Retry-After"] = rule.retry_after
    elif rule.retry_after_s is not None:
        headers["Retry-After"] = _retry_after(rule)
    if rule.body is not None:
        body = json.dumps(rule.body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": rule.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *((k.lower().encode(), v.encode()) for k, v in headers.items()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return
    # The documented 429 names its status in innerError too.
    inner = (
        {"code": "429", "message": "Please retry after", "status": "429"}
        if rule.status == 429
        else None
    )
    response = error_response(rule.status, rule.code, rule.message, scope, headers, inner)
    await response(scope, _no_receive, send)


def _retry_after(rule: FaultRule) -> str:
    """The Retry-After header: seconds as given, or the HTTP date they end at (whole
    seconds, rounded up, so the date never comes before the seconds are over)."""
    assert rule.retry_after_s is not None
    if rule.retry_after_date:
        return formatdate(math.ceil(time.time() + rule.retry_after_s), usegmt=True)
    return str(rule.retry_after_s)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


async def _drop_connection(send: Send) -> None:
    """Abort the TCP connection under uvicorn's send, so the client sees it drop."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("dropping a connection needs uvicorn's send")
    transport.abort()
    # Let connection_lost run, so uvicorn does not try to answer on the dead socket.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
