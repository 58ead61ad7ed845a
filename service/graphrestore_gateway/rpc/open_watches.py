"""Open Watch streams, held against the policy: when it changes, each stream whose caller
may no longer watch its session ends with PERMISSION_DENIED (a caller taken out of the
policy does not keep following a restore until it ends)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from graphrestore_gateway.access.policy_source import PolicySource
from graphrestore_gateway.exceptions import Denied, FactsUnavailable, quoted
from graphrestore_gateway.records.store import RequestStore, session_key
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.rpc.methods import Method

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Stream:
    call: Call
    method: Method
    # Done, with the Denied, once the caller may no longer watch.
    revoked: asyncio.Future[None]


class OpenWatches:
    def __init__(self, policy: PolicySource, store: RequestStore) -> None:
        self._policy = policy
        self._store = store
        self._streams: set[_Stream] = set()
        self._checks: set[asyncio.Task[None]] = set()

    @contextmanager
    def opened(self, call: Call, method: Method) -> Iterator[asyncio.Future[None]]:
        """While the stream is open: the future that is done when it must end."""
        stream = _Stream(call, method, asyncio.get_running_loop().create_future())
        self._streams.add(stream)
        try:
            yield stream.revoked
        finally:
            self._streams.discard(stream)

    def recheck(self) -> None:
        """Check every open stream against the policy now in force."""
        for stream in self._streams:
            check = asyncio.ensure_future(self._check(stream))
            self._checks.add(check)
            check.add_done_callback(self._checks.discard)

    async def _check(self, stream: _Stream) -> None:
        call, method = stream.call, stream.method
        policy = self._policy.current()
        try:
            if policy is None:
                return
            rule = policy.admit(call.caller, method.workload.name, method.name)
            if not rule.sees_every_session:
                key = method.workload.scoped(session_key(call.restore_session_id))
                owners = await self._store.owners_of([key])
                if owners.get(key) != call.caller:
                    raise Denied(
                        f"{quoted(call.caller)} may no longer see this session",
                        "SESSION_NOT_VISIBLE",
                    )
        except Denied as denied:
            self._end(stream, denied)
        except Exception as error:  # never left open unchecked: the caller may ask again
            log.warning(
                "an open watch could not be checked against the new policy",
                extra={"fields": {"error": str(error), "caller": call.caller}},
            )
            self._end(stream, FactsUnavailable("the watch could not be checked again", 1.0))

    def _end(self, stream: _Stream, why: Exception) -> None:
        if stream in self._streams and not stream.revoked.done():
            stream.revoked.set_exception(why)
