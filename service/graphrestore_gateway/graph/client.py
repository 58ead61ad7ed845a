"""Async calls to Graph's backup API: token, retries, and the caller's deadline."""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from graphrestore_gateway import metrics, tracing
from graphrestore_gateway.graph import paths
from graphrestore_gateway.graph.auth import TokenProvider
from graphrestore_gateway.graph.backoff import Backoff, honoured_retry_after_s
from graphrestore_gateway.graph.budget import FairShare
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import (
    DEADLINE_EXCEEDED,
    GRAPH_ANSWER_LOST,
    GRAPH_MALFORMED_ANSWER,
    GRAPH_UNREACHABLE,
    GraphError,
)

API_PATH = "/v1.0/solutions/backupRestore"
MAX_ATTEMPTS = 4
DEFAULT_BACKOFF = Backoff()
# Graph's lists may show a new session this much later (config.py's graph_list_lag_s).
DEFAULT_LIST_LAG_S = 10.0
# Without a caller deadline a Graph call still ends.
DEFAULT_TIMEOUT_S = 60.0
MAX_CONNECTIONS = 100
# Graph sends evolvable enum members (session status "failed"...) only when asked.
PREFER = "include-unknown-enum-members"
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# 5xx answers that are a definite refusal: nothing was done.
REFUSING_5XX_CODES = frozenset({"TooManyActiveRestoreSessions"})
# Session statuses past draft: an activation went through.
DRAFT_STATUSES = frozenset({"", "draft"})
T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphAnswer:
    """A successful Graph answer and the ids that trace it."""

    body: dict[str, Any]
    http_status: int
    request_id: str
    client_request_id: str


@dataclass
class GraphTrail:
    """The Graph requests one RPC made, for its log line and audit record: the
    client-request-id the gateway sent with each (the same on its retries), and the
    request-id of each answer Graph gave."""

    client_request_ids: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GraphHttp:
    """Graph's backup API over an httpx transport: httpx's Request and Response, without
    the Client's layers the gateway does not use (cookies, redirects, auth flows, URL
    merging), which cost a tenth of the gateway's CPU per call."""

    transport: httpx.AsyncBaseTransport
    api_url: str

    async def send(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None,
        body: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        request = httpx.Request(
            method, _url(self.api_url + path), params=query, json=body, headers=headers
        )
        response = await self.transport.handle_async_request(request)
        await response.aread()
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()


@functools.lru_cache(maxsize=1024)
def _url(address: str) -> httpx.URL:
    """Parsed once: the same few paths are asked for again and again (httpx parses and
    checks a string URL, its host included, for every request)."""
    return httpx.URL(address)


def new_http_client(graph_url: str, ssl_context: ssl.SSLContext) -> GraphHttp:
    """httpx's API over aiohttp's connection pool: httpx's own pool collapses under
    concurrency on these machines (see `make bench` for the figures)."""

    def session() -> aiohttp.ClientSession:
        # aiohttp would label an empty body (activate) application/octet-stream: Graph's
        # calls without a body carry no Content-Type; httpx sets it for JSON bodies.
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=ssl_context, limit=MAX_CONNECTIONS),
            skip_auto_headers=("Content-Type",),
        )

    return GraphHttp(AiohttpTransport(client=session), f"{graph_url}{API_PATH}")


# Who pays for Graph calls the gateway makes for everyone (watch polls).
GATEWAY_PAYER = "graphrestore"


class GraphClient:
    """One shared connection pool, token and budget for the process; each view of it
    charges its calls to one payer and keeps the trail of its requests (`on_behalf_of`),
    and reaches one workload's sessions (`of_workload`; OneDrive's by default)."""

    def __init__(
        self,
        http: GraphHttp,
        tokens: TokenProvider,
        budget: FairShare,
        payer: str = GATEWAY_PAYER,
        trail: GraphTrail | None = None,
        sessions: paths.Sessions = paths.ONEDRIVE,
        backoff: Backoff = DEFAULT_BACKOFF,
        list_lag_s: float = DEFAULT_LIST_LAG_S,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._budget = budget
        self._payer = payer
        self._trail = trail
        self._sessions = sessions
        self._backoff = backoff
        # How long restoreSessions lists may take to show a new session.
        self.list_lag_s = list_lag_s

    def on_behalf_of(self, payer: str, trail: GraphTrail) -> GraphClient:
        """The same client, its calls charged to `payer`'s share of the budget and
        written into `trail`."""
        return GraphClient(
            self._http,
            self._tokens,
            self._budget,
            payer,
            trail,
            self._sessions,
            self._backoff,
            self.list_lag_s,
        )

    def of_workload(self, sessions: paths.Sessions) -> GraphClient:
        """The same client, its session calls on `sessions`' entity set."""
        return GraphClient(
            self._http,
            self._tokens,
            self._budget,
            self._payer,
            self._trail,
            sessions,
            self._backoff,
            self.list_lag_s,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def create_restore_session(self, body: dict[str, Any], deadline: Deadline) -> GraphAnswer:
        path = paths.path(self._sessions.entity_set)
        return await self._call("POST", path, body, deadline, idempotent=False)

    async def get_restore_session(self, session_id: str, deadline: Deadline) -> GraphAnswer:
        """A session of this view's workload; another workload's is not found."""
        if self._sessions.reads_own_set:
            path = self._sessions.session(session_id)
            return await self._call("GET", path, None, deadline, idempotent=True)
        answer = await self.get_any_restore_session(session_id, deadline)
        if not self._sessions.holds(answer.body):
            raise GraphError(
                "RestoreSessionNotFound",
                f"no {self._sessions.entity_set} session {session_id[:128]!r}",
                http_status=404,
                request_id=answer.request_id,
                client_request_id=answer.client_request_id,
            )
        return answer

    async def get_any_restore_session(self, session_id: str, deadline: Deadline) -> GraphAnswer:
        """A session of any workload (restoreSessions/{id}): its @odata.type tells which."""
        path = paths.any_session(session_id)
        return await self._call("GET", path, None, deadline, idempotent=True)

    async def list_restore_sessions(self, query: dict[str, str], deadline: Deadline) -> GraphAnswer:
        """Sessions of the entity set (OneDrive), or of every workload (restoreSessions,
        the documented list for the others): the caller keeps those `sessions.holds`."""
        entity_set = (
            self._sessions.entity_set if self._sessions.reads_own_set else paths.ALL_SESSIONS
        )
        path = paths.path(entity_set)
        return await self._call("GET", path, None, deadline, idempotent=True, query=query)

    async def update_restore_session(
        self, session_id: str, delta: list[dict[str, Any]], deadline: Deadline
    ) -> GraphAnswer:
        body = {f"{self._sessions.artifacts}@delta": delta}
        path = self._sessions.session(session_id)
        return await self._call("PATCH", path, body, deadline, idempotent=False)

    async def delete_restore_session(self, session_id: str, deadline: Deadline) -> GraphAnswer:
        path = paths.any_session(session_id)
        return await self._call("DELETE", path, None, deadline, idempotent=False)

    async def activate_restore_session(self, session_id: str, deadline: Deadline) -> GraphAnswer:
        """Activate a draft. When Graph asked to come back (resend_unless_found), the
        session itself once it is past draft: the first activation went through, and a
        second is refused (403 RestoreSessionActionNotAllowed) in any state but draft."""
        path = paths.any_session(session_id, "activate")
        sent = 0

        async def activated() -> GraphAnswer | None:
            answer = await self.get_any_restore_session(session_id, deadline)
            return None if answer.body.get("status", "") in DRAFT_STATUSES else answer

        async def activate() -> GraphAnswer:
            nonlocal sent
            sent += 1
            try:
                return await self._call("POST", path, None, deadline, idempotent=False)
            except GraphError as error:
                # Past draft since it was last read: the first activation, just done.
                if sent > 1 and error.code == "RestoreSessionActionNotAllowed":
                    found = await activated()
                    if found is not None:
                        return found
                raise

        return await self.resend_unless_found(activate, activated, deadline)

    async def resend_unless_found(
        self,
        send: Callable[[], Awaitable[T]],
        find: Callable[[], Awaitable[T | None]],
        deadline: Deadline,
    ) -> T:
        """Send a change (a create, an activation) and, when Graph answers 503 with
        Retry-After, wait as asked, look for what that attempt did (`find`), and send
        again only when nothing is found: unlike a 429, a 503 does not say that Graph
        did nothing. Any other failure is raised; after a 503, whatever fails next (the
        look, the wait, the resend) leaves the change one that may have been made, for the
        caller's retry to reconcile."""
        attempt = 0
        answered_503 = False
        try:
            while True:
                attempt += 1
                try:
                    return await send()
                except GraphError as error:
                    if not _asks_to_come_back(error):
                        raise
                    answered_503 = True
                    await self._pause_or_raise(error, attempt, deadline)
                found = await find()
                if found is not None:
                    return found
        except GraphError as error:
            error.may_have_applied = error.may_have_applied or answered_503
            raise

    async def list_restore_artifacts(
        self, session_id: str, query: dict[str, str], deadline: Deadline
    ) -> GraphAnswer:
        path = self._sessions.session(session_id, self._sessions.artifacts)
        return await self._call("GET", path, None, deadline, idempotent=True, query=query)

    async def create_bulk_addition_request(
        self, session_id: str, body: dict[str, Any], deadline: Deadline
    ) -> GraphAnswer:
        path = self._sessions.session(session_id, self._sessions.bulk_requests)
        return await self._call("POST", path, body, deadline, idempotent=False)

    async def get_bulk_addition_request(
        self, session_id: str, bulk_id: str, deadline: Deadline
    ) -> GraphAnswer:
        path = self._sessions.bulk_request(session_id, bulk_id)
        return await self._call("GET", path, None, deadline, idempotent=True)

    async def list_bulk_addition_requests(
        self, session_id: str, next_link: str, deadline: Deadline
    ) -> GraphAnswer:
        """A page of a session's bulk requests: the first as the docs show it (no query
        option), each next one at Graph's @odata.nextLink as given. A next link off this
        very collection is not followed (the token would go with it)."""
        path = self._sessions.session(session_id, self._sessions.bulk_requests)
        query = self._page_query(path, next_link)
        return await self._call("GET", path, None, deadline, idempotent=True, query=query)

    def _page_query(self, path: str, next_link: str) -> dict[str, str] | None:
        """None for a first page; the options of Graph's next link, as given, for a next
        page of the collection at `path` (a link off it is not followed: the token would
        go with it)."""
        if not next_link:
            return None
        query = paths.next_link_query(next_link, self._http.api_url + path)
        if query is None:
            raise GraphError(
                GRAPH_MALFORMED_ANSWER,
                "Graph's next link leaves the collection it pages",
                source="gateway",
                http_status=200,
            )
        return query

    async def create_browse_session(self, restore_point_id: str, deadline: Deadline) -> GraphAnswer:
        path = paths.path(self._sessions.browse_sessions)
        body = {"restorePointId": restore_point_id}
        return await self._call("POST", path, body, deadline, idempotent=False)

    async def get_browse_session(self, browse_session_id: str, deadline: Deadline) -> GraphAnswer:
        path = self._sessions.browse_session(browse_session_id)
        return await self._call("GET", path, None, deadline, idempotent=True)

    async def list_browse_sessions(self, query: dict[str, str], deadline: Deadline) -> GraphAnswer:
        """The workload's browse sessions: one page (the page documents no query option;
        `query` carries only the continuation of a next link)."""
        path = paths.path(self._sessions.browse_sessions)
        return await self._call("GET", path, None, deadline, idempotent=True, query=query)

    async def browse(
        self,
        browse_session_id: str,
        body: dict[str, Any],
        continuation: dict[str, str],
        deadline: Deadline,
    ) -> GraphAnswer:
        """A page of the browse action at its documented typed path: the first (POST of
        `body`; it changes nothing, so it may be sent again), or the one the
        continuation of a next link names (GET)."""
        path = self._sessions.browse_session(browse_session_id, "browse")
        if continuation:
            return await self._call(
                "GET", path, None, deadline, idempotent=True, query=continuation
            )
        return await self._call("POST", path, body, deadline, idempotent=True)

    async def update_granular_artifacts(
        self, session_id: str, delta: list[dict[str, Any]], deadline: Deadline
    ) -> GraphAnswer:
        body = {f"{self._sessions.granular_artifacts}@delta": delta}
        path = self._sessions.session(session_id)
        return await self._call("PATCH", path, body, deadline, idempotent=False)

    async def list_granular_artifacts(
        self, session_id: str, query: dict[str, str], deadline: Deadline
    ) -> GraphAnswer:
        """A granular session's items (the page documents no query option)."""
        path = self._sessions.session(session_id, self._sessions.granular_artifacts)
        return await self._call("GET", path, None, deadline, idempotent=True, query=query)

    async def get_restore_point(self, restore_point_id: str, deadline: Deadline) -> GraphAnswer:
        path = paths.restore_point(restore_point_id)
        return await self._call("GET", path, None, deadline, idempotent=True)

    async def get_protection_unit_of(
        self, restore_point_id: str, deadline: Deadline
    ) -> GraphAnswer:
        """The protection unit a restore point belongs to (restorePoints/{id}/protectionUnit)."""
        path = paths.restore_point(restore_point_id) + "/protectionUnit"
        return await self._call("GET", path, None, deadline, idempotent=True)

    async def get_drive_protection_unit(self, unit_id: str, deadline: Deadline) -> GraphAnswer:
        path = paths.drive_unit(unit_id)
        return await self._call("GET", path, None, deadline, idempotent=True)

    async def find_drive_protection_unit(
        self, directory_object_id: str, deadline: Deadline
    ) -> GraphAnswer:
        """The drive protection unit of a user, by directory object id. The id is
        validated (no quote can end the literal) before it is put into the filter."""
        query = {"$filter": f"directoryObjectId eq '{directory_object_id}'"}
        path = paths.path(paths.DRIVE_UNITS)
        return await self._call("GET", path, None, deadline, idempotent=True, query=query)

    async def list_site_protection_units(self, next_link: str, deadline: Deadline) -> GraphAnswer:
        """A page of the tenant's site protection units: the first with no query option
        (the page documents none), each next one at Graph's @odata.nextLink as given."""
        path = paths.path(paths.SITE_UNITS)
        query = self._page_query(path, next_link)
        return await self._call("GET", path, None, deadline, idempotent=True, query=query)

    async def search_restore_points(self, body: dict[str, Any], deadline: Deadline) -> GraphAnswer:
        # A search changes nothing: safe to send again.
        path = paths.path(paths.RESTORE_POINTS, "search")
        return await self._call("POST", path, body, deadline, idempotent=True)

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        deadline: Deadline,
        *,
        idempotent: bool,
        query: dict[str, str] | None = None,
    ) -> GraphAnswer:
        """Send with retries: throttling always (Graph did no work), other transient
        failures only when the call is idempotent or provably never reached Graph."""
        client_request_id = str(uuid.uuid4())
        if self._trail is not None:
            self._trail.client_request_ids.append(client_request_id)
        refreshed_token = False
        attempt = 0
        while True:
            attempt += 1
            token = await self._tokens.token(deadline)
            await self._budget.take(deadline, self._payer)
            try:
                response = await self._send(
                    method, path, query, body, token, client_request_id, deadline, idempotent
                )
            except GraphError as error:
                if error.may_have_applied and not idempotent:
                    raise
                await self._pause_or_raise(error, attempt, deadline)
                continue
            _log_answer(method, path, response, client_request_id, attempt)
            if self._trail is not None and response.headers.get("request-id"):
                self._trail.request_ids.append(response.headers["request-id"])
            if response.is_success:
                return _answer(response, client_request_id, may_have_applied=not idempotent)
            refusal = GraphError.from_response(response, client_request_id)
            # Clamped once: the pause, the wait and the caller's RetryInfo all use it.
            refusal.retry_after_s = honoured_retry_after_s(refusal.retry_after_s)
            if _pauses_the_tenant(refusal):
                # Throttling is per tenant: everyone waits, not just this call.
                assert refusal.retry_after_s is not None
                await self._budget.pause(refusal.retry_after_s)
            if response.status_code == 401 and not refreshed_token:
                self._tokens.invalidate(token)
                refreshed_token = True
                continue
            not_applied = _proves_nothing_done(refusal)
            retryable = not_applied or (idempotent and response.status_code in TRANSIENT_STATUSES)
            if not idempotent and response.status_code >= 500:
                refusal.may_have_applied = refusal.code not in REFUSING_5XX_CODES
            if not retryable:
                raise refusal
            await self._pause_or_raise(refusal, attempt, deadline)

    async def _send(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None,
        body: dict[str, Any] | None,
        token: str,
        client_request_id: str,
        deadline: Deadline,
        idempotent: bool,
    ) -> httpx.Response:
        """One attempt: a child span of the RPC's, and counted in the Graph metrics."""
        route = paths.graph_route(method, path)
        sent_at = time.monotonic()
        with tracing.graph_span(route, method, client_request_id) as span:
            headers = {
                "Accept": "application/json",
                "Authorization": f"Bearer {token}",
                "client-request-id": client_request_id,
                "Prefer": PREFER,
            }
            try:
                response = await self._answer_within(
                    deadline,
                    method,
                    path,
                    self._http.send(method, path, query, body, headers),
                    outlives_caller=not idempotent,
                )
            except GraphError as error:
                error.client_request_id = client_request_id
                span.set_attribute("error.type", error.code)
                metrics.GRAPH_REQUESTS.labels(route, error.code).inc()
                raise
            span.set_attribute("http.response.status_code", response.status_code)
            span.set_attribute("graph.request_id", response.headers.get("request-id", ""))
        metrics.GRAPH_REQUESTS.labels(route, str(response.status_code)).inc()
        metrics.GRAPH_SECONDS.labels(route).observe(time.monotonic() - sent_at)
        return response

    @staticmethod
    async def _answer_within(
        deadline: Deadline,
        method: str,
        path: str,
        exchange: Awaitable[httpx.Response],
        outlives_caller: bool,
    ) -> httpx.Response:
        """Graph's answer before the deadline, or GraphError saying what went wrong. A
        request that changes something (`outlives_caller`) is waited for up to
        DEFAULT_TIMEOUT_S whatever the deadline: giving up on its answer is what leaves a
        session nobody owns, and records/exactly_once.py answers the caller at its deadline
        while the attempt goes on to record what Graph did."""
        remaining = deadline.remaining_s()
        timeout_s = DEFAULT_TIMEOUT_S if remaining is None else remaining
        if outlives_caller:
            remaining, timeout_s = None, max(timeout_s, DEFAULT_TIMEOUT_S)
        try:
            async with asyncio.timeout(timeout_s):
                return await exchange
        except (TimeoutError, httpx.HTTPError) as exc:
            never_sent = _never_sent(exc)
            ran_out = isinstance(exc, TimeoutError) and remaining is not None
            if ran_out:
                code, what = DEADLINE_EXCEEDED, "the caller's deadline ran out"
            elif never_sent:
                code, what = GRAPH_UNREACHABLE, "no connection to Graph"
            else:
                code, what = GRAPH_ANSWER_LOST, "no answer from Graph"
            raise GraphError(
                code,
                f"{method} {path}: {what} ({type(exc).__name__})",
                source="gateway",
                # A read changes nothing, whether its answer came or not.
                may_have_applied=outlives_caller and not never_sent,
            ) from None

    async def _pause_or_raise(self, error: GraphError, attempt: int, deadline: Deadline) -> None:
        """Wait before the next attempt, or raise `error` if there is no attempt or time left."""
        if error.code == DEADLINE_EXCEEDED or attempt >= MAX_ATTEMPTS:
            raise error
        wait_s = self._backoff.wait_s(attempt, error.retry_after_s)
        if not deadline.allows(wait_s):
            # Tell the caller when to come back instead of waiting in vain.
            error.retry_after_s = wait_s
            raise error
        if _pauses_the_tenant(error):
            return  # the budget's pause is the wait: the next take waits it out, as throttling
        await asyncio.sleep(wait_s)


def _proves_nothing_done(refusal: GraphError) -> bool:
    """Only throttling (429) proves Graph did no work, so that even a change may be sent
    again at once. A 503, even with Retry-After, asks the client to come back but does
    not say the work was not done (resend_unless_found); any other 5xx proves nothing."""
    return refusal.http_status == 429


def _pauses_the_tenant(error: GraphError) -> bool:
    """A 429 with Retry-After: Graph's limits are the tenant's, shared by every app and
    caller, so every Graph call of the gateway waits it out, not just the one refused."""
    return error.http_status == 429 and bool(error.retry_after_s)


def _asks_to_come_back(error: GraphError) -> bool:
    """Graph's 503 with Retry-After: come back later, and look first (the change may
    have been made)."""
    return error.http_status == 503 and error.retry_after_s is not None


def _never_sent(exc: BaseException) -> bool:
    """Only a failed connect proves that a request never reached Graph. The aiohttp
    transport reports every connection error as ConnectTimeout, so look at the cause."""
    if isinstance(exc.__cause__, aiohttp.ClientConnectorError):
        return True
    return isinstance(exc, httpx.ConnectError) and exc.__cause__ is None


def _answer(
    response: httpx.Response, client_request_id: str, may_have_applied: bool
) -> GraphAnswer:
    request_id = response.headers.get("request-id", "")
    body: Any = {}
    if response.content:
        try:
            body = response.json()
        except ValueError:
            body = None
    if not isinstance(body, dict):
        raise GraphError(
            GRAPH_MALFORMED_ANSWER,
            f"Graph answered {response.status_code} with a body that is not a JSON object",
            source="gateway",
            http_status=response.status_code,
            request_id=request_id,
            client_request_id=client_request_id,
            may_have_applied=may_have_applied,
        )
    return GraphAnswer(body, response.status_code, request_id, client_request_id)


def _log_answer(
    method: str, path: str, response: httpx.Response, client_request_id: str, attempt: int
) -> None:
    # Per Graph request: debug only (metrics and traces count and time every one).
    log.debug(
        "graph call",
        extra={
            "fields": {
                "method": method,
                "path": path,
                "http_status": response.status_code,
                "request_id": response.headers.get("request-id", ""),
                "client_request_id": client_request_id,
                "attempt": attempt,
            }
        },
    )
