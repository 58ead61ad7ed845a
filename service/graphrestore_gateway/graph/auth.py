"""App-only Graph tokens from msal: cached, refreshed early, one refresh at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import msal
import msal.exceptions

from graphrestore_gateway import metrics
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.graph.errors import (
    AUTHORITY_REJECTED,
    DEADLINE_EXCEEDED,
    ENTRA_UNREACHABLE,
    GraphError,
)

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_SCOPE = f"{GRAPH_RESOURCE}/.default"
# Refresh this long before expiry, in the background while the old token still serves.
REFRESH_MARGIN_S = 300.0
# Below this much lifetime a token is not handed out at all.
MIN_LIFETIME_S = 30.0
# Longest pause between token requests while Entra ID is out of reach.
MAX_RETRY_PAUSE_S = 60.0
# How long the start waits for the first token before it serves without one.
FIRST_TOKEN_WAIT_S = 2.0

log = logging.getLogger(__name__)


class TokenSource(Protocol):
    """One msal client of the configured credential (graph/credentials.py)."""

    def acquire(self, fresh: bool) -> dict[str, Any]:
        """msal's answer for a Graph token (synchronous); `fresh`: not from msal's cache."""
        ...


class TokenProvider:
    """Hands out a Graph access token; concurrent callers share one msal request."""

    def __init__(
        self,
        new_source: Callable[[], TokenSource],
        on_health: Callable[[bool], None] = lambda healthy: None,
    ) -> None:
        # msal fetches the authority's metadata when the app is built: build it on first
        # use, so the gateway starts (and answers UNAVAILABLE) while Entra ID is down.
        self._new_source = new_source
        self._source: TokenSource | None = None
        self._token = ""
        self._expires_at = 0.0  # time.monotonic()
        self._refresh: asyncio.Task[None] | None = None
        self._drop_msal_cache = False
        # While Entra ID is out of reach or refuses the credential: fail fast until the
        # next try, which comes by itself after a growing pause (no storm of token
        # requests; a rotated federated token file or a fixed assignment is picked up).
        self._on_health = on_health
        self._failures = 0
        self._next_try = 0.0
        self._last_failure: GraphError | None = None

    async def token(self, deadline: Deadline) -> str:
        now = time.monotonic()
        if self._token and now < self._expires_at - MIN_LIFETIME_S:
            if now >= self._expires_at - REFRESH_MARGIN_S:
                self._start_refresh()
            return self._token
        if self._last_failure is not None and now < self._next_try:
            raise self._failing_fast(self._last_failure, self._next_try - now)
        refresh = self._start_refresh()
        try:
            await asyncio.wait_for(asyncio.shield(refresh), deadline.remaining_s())
        except TimeoutError:
            raise GraphError(
                DEADLINE_EXCEEDED,
                "the deadline ran out while waiting for an access token",
                source="gateway",
            ) from None
        return self._token

    async def prefetch(self) -> None:
        """Ask for the first token at start: a credential that Entra ID refuses shows as
        not ready before anything serves (a rollout stops), not at the first call. Waits
        FIRST_TOKEN_WAIT_S at most, so Entra out of reach does not hold the start; the
        request goes on in the background."""
        refresh = self._start_refresh()
        # Whatever failed is told by health (on_health) and the log (_log_failure); the
        # start goes on, as it does while Entra ID is down.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(refresh), FIRST_TOKEN_WAIT_S)

    def invalidate(self, token: str) -> None:
        """Graph refused `token` (401): never hand it out again, in our cache or msal's."""
        if token == self._token:
            self._token = ""
            self._expires_at = 0.0
            self._drop_msal_cache = True

    def _start_refresh(self) -> asyncio.Task[None]:
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._do_refresh())
            self._refresh.add_done_callback(_log_failure)
        return self._refresh

    async def _do_refresh(self) -> None:
        drop_cache, self._drop_msal_cache = self._drop_msal_cache, False
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(self._acquire, drop_cache)
        except GraphError as error:
            metrics.TOKEN_REQUESTS.labels(error.code).inc()
            # Out of reach or refused: either way no Graph call can be made (not ready).
            self._failures += 1
            self._last_failure = error
            pause_s = min(MAX_RETRY_PAUSE_S, 2.0**self._failures)
            self._next_try = time.monotonic() + pause_s
            asyncio.get_running_loop().call_later(pause_s, self._start_refresh)
            self._on_health(False)
            raise
        metrics.TOKEN_REQUESTS.labels("ok").inc()
        if self._failures:
            self._failures = 0
            self._last_failure = None
            self._on_health(True)
        self._token = str(result["access_token"])
        self._expires_at = started + float(result.get("expires_in", 0))
        log.info(
            "graph token ready",
            extra={
                "fields": {
                    "source": result.get("token_source"),
                    "expires_in": result.get("expires_in"),
                }
            },
        )

    @staticmethod
    def _failing_fast(failure: GraphError, wait_s: float) -> GraphError:
        """What a call gets while the next token request waits: Entra out of reach is
        worth a retry then; a refused credential is the same refusal."""
        if failure.code == ENTRA_UNREACHABLE:
            return GraphError(
                ENTRA_UNREACHABLE,
                f"Entra ID is out of reach; the next token request is in {wait_s:.0f}s",
                source="entra",
                retry_after_s=wait_s,
            )
        return GraphError(failure.code, failure.message, source="entra")

    def _acquire(self, drop_cache: bool) -> dict[str, Any]:
        """Runs in a worker thread: msal is synchronous."""
        try:
            if self._source is None:
                self._source = self._new_source()
            result = self._source.acquire(drop_cache)
        except (httpx.HTTPError, msal.exceptions.MsalServiceError) as exc:
            # msal raises MsalServiceError for a 5xx from the token endpoint.
            raise GraphError(
                ENTRA_UNREACHABLE,
                f"Entra ID could not be reached for a token: {type(exc).__name__}",
                source="entra",
            ) from None
        except ValueError as exc:
            # msal's word for an authority whose metadata it could not get or read.
            raise GraphError(AUTHORITY_REJECTED, str(exc), source="entra") from None
        if "access_token" not in result:
            raise GraphError(
                str(result.get("error", "token_error")),
                str(result.get("error_description", "Entra ID refused the token request")),
                source="entra",
            )
        return result


def _log_failure(task: asyncio.Task[None]) -> None:
    """Retrieve a refresh's failure so a background refresh never fails silently."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("graph token refresh failed", extra={"fields": {"error": str(exc)}})
