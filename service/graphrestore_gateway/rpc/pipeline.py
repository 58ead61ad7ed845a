"""The call pipeline. Every RPC of the restore service passes the same steps, in order:

    identify   the caller (mTLS certificate, bearer JWT, or anonymous on loopback); one
               whose refused-call budget is spent is turned away (access/refusals.py)
    validate   the request (rpc/methods.py's table; no Graph call)
    authorize  the policy: method, ownership of the session named, destination and count
               of what it adds; then, for changes, facts from Graph (bounded; a failed
               lookup refuses) and room reserved for max_artifacts
    once       mutating RPCs: at most once per (caller, method, request_id)
    graph      the servicer method
    map        any failure -> one google.rpc.Status (rpc/status.py)
    audit      one record per mutating call and per denial, before the answer leaves

Health and reflection only need an authenticated caller (rpc/authenticated_only.py)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, status_pb2
from google.rpc.error_details_pb2 import BadRequest
from grpc_status import rpc_status

from graphrestore_gateway import metrics
from graphrestore_gateway.access.callers import Authenticator
from graphrestore_gateway.access.facts import GraphFacts, unit_cache
from graphrestore_gateway.access.policy import CallerRule, PolicyError
from graphrestore_gateway.access.policy_source import PolicySource
from graphrestore_gateway.access.refusals import CHARGED, RefusalBudget, key_of
from graphrestore_gateway.exceptions import (
    MAX_QUOTED_CHARS,
    AuditUnavailable,
    Denied,
    InvalidRequest,
    Refusal,
    SessionNotFound,
    TooManyRefusals,
    TooManyWatches,
    Unauthenticated,
)
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.records.exactly_once import Attempt, ExactlyOnce, Made
from graphrestore_gateway.records.store import IdempotencyStore, session_key
from graphrestore_gateway.restore import call as rpc_call
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.restore.drive_units import DriveDirectory
from graphrestore_gateway.restore.searches import SearchGrants
from graphrestore_gateway.restore.service import RestoreService
from graphrestore_gateway.restore.watch import until_revoked
from graphrestore_gateway.restore.workloads import WORKLOADS
from graphrestore_gateway.rpc.auditing import Auditor
from graphrestore_gateway.rpc.methods import METHODS, Method
from graphrestore_gateway.rpc.open_watches import OpenWatches
from graphrestore_gateway.rpc.status import status_of

log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]
# Give up a little before the caller does, so our status (with details) still reaches it.
DEADLINE_MARGIN_S = 0.1


class Pipeline:
    def __init__(
        self,
        authenticator: Authenticator,
        policy: PolicySource,
        store: IdempotencyStore,
        once: ExactlyOnce,
        auditor: Auditor,
        graph: GraphClient,
        drives: DriveDirectory,
        max_watches_per_caller: int,
        refusals: RefusalBudget,
    ) -> None:
        self._authenticator = authenticator
        self._refusals = refusals
        self._policy = policy
        self._store = store
        self._once = once
        self._auditor = auditor
        # One view of Graph per workload, made once: a call only names its payer.
        self._graphs = {w.name: graph.of_workload(w.sessions) for w in WORKLOADS.values()}
        self._units = unit_cache()
        self._drives = drives
        self._max_watches = max_watches_per_caller
        self._watches: Counter[str] = Counter()
        metrics.WATCH_STREAMS.set_function(lambda: sum(self._watches.values()))
        self._open_watches = OpenWatches(policy, store)
        self._searches = SearchGrants(store)
        self._reload_records: set[asyncio.Task[None]] = set()
        policy.on_reload(self._policy_reloaded)

    def _policy_reloaded(self, refused: PolicyError | None) -> None:
        """An edit of the policy: audited (in force or refused); once in force, every
        open watch is checked against it."""
        record = asyncio.ensure_future(self._auditor.policy_reload(self._policy, refused))
        self._reload_records.add(record)
        record.add_done_callback(self._reload_records.discard)
        if refused is None:
            self._open_watches.recheck()

    def register(self, servicer: RestoreService, server: grpc.aio.Server) -> None:
        """Serve the servicer's workload's service: each method of its table through the
        pipeline. Registered as generated code registers (matched in gRPC's core, no
        lookup in Python per call), with the generic handler beside it."""
        handlers: dict[str, grpc.RpcMethodHandler[bytes, Message]] = {}
        workload = servicer.workload
        for method in METHODS[workload.name].values():
            behavior = getattr(servicer, method.behavior)
            make = (
                grpc.unary_stream_rpc_method_handler
                if method.streaming
                else grpc.unary_unary_rpc_method_handler
            )
            serve = (
                self._stream(method, behavior)
                if method.streaming
                else self._unary(method, behavior)
            )
            handlers[method.name] = make(
                serve,
                # Parsed in the pipeline, once the caller may be served (_read).
                request_deserializer=None,
                response_serializer=method.response_type.SerializeToString,
            )
        name = workload.service.full_name
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(name, handlers)])
        server.add_registered_method_handlers(name, handlers)

    def _begin(self, method: Method, context: Context) -> Call:
        remaining = context.time_remaining()
        deadline = Deadline.after(None if remaining is None else remaining - DEADLINE_MARGIN_S)
        call = Call(method=method.name, peer=context.peer(), deadline=deadline)
        rpc_call.CURRENT.set(call)
        metrics.RPC_STARTED.labels(method.service.full_name, method.name, _rpc_type(method)).inc()
        return call

    async def _admit(
        self, method: Method, request: Any, call: Call, context: Context
    ) -> CallerRule | None:
        """Validate and authorize without Graph: the caller's rule (None when no policy
        is configured, GRAPHRESTORE_AUTH=none)."""
        violations = method.validate(request)
        if violations:
            raise InvalidRequest(violations)
        call.restores = method.restores(request)
        if method.mutating:
            # AIP-155: one request, whatever the case of its hex digits.
            request.request_id = request.request_id.lower()
            call.request_id = request.request_id
        policy = self._policy.current()
        if policy is None:
            call.sees_every_session = True
            return None
        rule = policy.admit(call.caller, method.workload.name, method.name)
        call.sees_every_session = rule.sees_every_session
        call.bound_by_contents = rule.restricts_destinations or rule.restricts_units
        rule.check_units(call.caller, method.searched_units(request))
        session_id = method.session_id(request)
        if session_id:
            call.restore_session_id = session_id
            if not rule.sees_every_session:
                key = method.workload.scoped(session_key(session_id))
                owners = await self._store.owners_of([key])
                if owners.get(key) != call.caller:
                    raise SessionNotFound("SESSION_NOT_VISIBLE")
        if call.restores is not None:
            rule.check_restores(call.caller, call.restores, 0)
            await self._searches.check(method.workload, call.caller, call.restores.searches)
        return rule

    async def _read(self, method: Method, body: bytes, call: Call, context: Context) -> Any:
        """Identify the caller, then parse its request. A caller whose refused-call budget
        is spent is turned away before: parsing a large request is most of what refusing
        it costs (10,000 artifacts: some 40 % of the event loop under a flood of them)."""
        await self._identify(call, context)
        try:
            return method.request_type.FromString(body)
        except DecodeError:
            name = method.request_type.DESCRIPTOR.full_name
            violation = BadRequest.FieldViolation(field="", description=f"is not a {name}")
            raise InvalidRequest([violation]) from None

    async def _identify(self, call: Call, context: Context) -> None:
        """Name the call's caller, unless its refused-call budget is spent; without a
        valid identity, the budget of its peer address decides whether it is told so."""
        try:
            call.caller = await self._authenticator.identify(context)
        except Unauthenticated:
            await self._within_budget(call)
            raise
        await self._within_budget(call)

    async def _within_budget(self, call: Call) -> None:
        """TooManyRefusals if the budget of the call's caller (or of its peer address,
        while it has no identity) is spent, answered once it could take
        one more refusal (or at the caller's deadline, if sooner). Held, not answered at
        once: a flooding caller's calls in flight each wait on a timer, so its flood runs
        at its calls in flight per wait, however fast it sends; answered at once, a
        flood of 32 in flight kept the event loop busy and every other caller waited."""
        wait_s = self._refusals.wait_s(key_of(call.caller, call.peer))
        if not wait_s:
            return
        self._auditor.turned_away(call)
        remaining_s = call.deadline.remaining_s()
        await asyncio.sleep(wait_s if remaining_s is None else min(wait_s, remaining_s))
        raise TooManyRefusals(self._refusals.interval_s)

    async def _authorize_change(
        self,
        rule: CallerRule,
        method: Method,
        request: Any,
        call: Call,
        graph: GraphClient,
    ) -> str:
        """The rules that need Graph: what the session holds, how full it is, which
        units the named restore points belong to. Returns a reservation token ("")."""
        restores = call.restores
        session_id = method.session_id(request)
        facts = GraphFacts(
            graph, method.workload.artifact_type, self._units, self._drives, call.deadline
        )
        if session_id and method.changes_session and call.bound_by_contents:
            key = method.workload.scoped(session_key(session_id))
            recorded = await self._store.holdings_of([key])
            destinations, points = await facts.holdings(session_id, recorded.get(key))
            rule.check_destinations(call.caller, destinations)
            if rule.restricts_units:
                rule.check_units(call.caller, await facts.units_of(points))
        if restores is None:
            return ""
        if rule.restricts_units:
            rule.check_units(call.caller, list(restores.unit_ids))
            if restores.restore_point_ids:
                units = await facts.units_of(list(restores.restore_point_ids))
                rule.check_units(call.caller, units)
            if restores.directory_object_ids:
                users = await facts.units_of_users(list(restores.directory_object_ids))
                rule.check_units(call.caller, users)
        if not session_id:
            return ""
        key = method.workload.scoped(session_key(session_id))
        already = await facts.session_size(session_id)
        rule.check_restores(call.caller, restores, already)
        token = await self._store.reserve(key, restores.count, rule.max_artifacts - already)
        # Another call's addition may have landed, and its room been released, between
        # the size read and this reservation: the size read again with the room held.
        if token and await facts.session_size(session_id, fresh=True) != already:
            await self._store.release_reservation(key, token)
            token = None
        if token is None:
            raise Denied(
                f"other calls in flight are filling this session up to the caller's "
                f"{rule.max_artifacts} drives",
                "TOO_MANY_ARTIFACTS",
            )
        return token

    async def _serve(
        self,
        method: Method,
        behavior: Callable[[Any, Call], Awaitable[Message]],
        request: Any,
        call: Call,
        context: Context,
    ) -> Message:
        rule = await self._admit(method, request, call, context)
        if not method.mutating or getattr(request, "validate_only", False):
            return await behavior(request, call)
        graph = self._graphs[method.workload.name].on_behalf_of(call.caller, call.graph)

        async def checked(deadline: Deadline, attempt: Attempt) -> Message:
            call.request_key = attempt.request_key
            call.reconcile_since = attempt.interrupted_at
            token = ""
            if rule is not None:
                token = await self._authorize_change(rule, method, request, call, graph)
            try:
                return await behavior(request, call)
            finally:
                if token:
                    await self._store.release_reservation(
                        method.workload.scoped(session_key(method.session_id(request))), token
                    )

        async def answered(response: Message) -> None:
            await self._auditor.record(call, method, request, response, "OK", None)
            call.audited = True

        return await self._once.run(
            call.caller,
            method.workload.scoped(method.name),
            call.request_id,
            request,
            method.response_type,
            checked,
            call.deadline,
            answered,
            lambda: Made(dict.fromkeys(call.made, call.caller), call.holdings),
        )

    def _unary(
        self, method: Method, behavior: Callable[[Any, Call], Awaitable[Message]]
    ) -> Callable[[bytes, Context], Awaitable[Message]]:
        async def serve(body: bytes, context: Context) -> Message:
            call = self._begin(method, context)
            # What the audit and the log read of a call refused before its body is parsed.
            request: Any = method.request_type()
            try:
                request = await self._read(method, body, call, context)
                response = await self._serve(method, behavior, request, call, context)
                await self._finish(call, method, request, response, "OK")
            except asyncio.CancelledError:
                await self._finish(call, method, request, None, "CANCELLED")
                raise
            except Exception as error:
                status = await self._fail(call, method, request, error)
                await context.abort_with_status(rpc_status.to_status(status))
                raise  # abort_with_status always raises; this keeps type checkers informed
            return response

        return serve

    def _stream(
        self, method: Method, behavior: Callable[[Any, Call], AsyncIterator[Message]]
    ) -> Callable[[bytes, Context], AsyncIterator[Message]]:
        async def serve(body: bytes, context: Context) -> AsyncIterator[Message]:
            call = self._begin(method, context)
            counted = False
            request: Any = method.request_type()
            try:
                request = await self._read(method, body, call, context)
                await self._admit(method, request, call, context)
                if self._watches[call.caller] >= self._max_watches:
                    raise TooManyWatches(
                        f"the caller already holds {self._max_watches} open watch streams"
                    )
                self._watches[call.caller] += 1
                counted = True
                with self._open_watches.opened(call, method) as revoked:
                    async for response in until_revoked(behavior(request, call), revoked):
                        yield response
            except Exception as error:
                status = await self._fail(call, method, request, error)
                await context.abort_with_status(rpc_status.to_status(status))
            finally:
                if counted:
                    self._watches[call.caller] -= 1
                    if not self._watches[call.caller]:
                        del self._watches[call.caller]
            await self._finish(call, method, request, None, "OK")

        return serve

    async def _fail(
        self, call: Call, method: Method, request: Any, error: Exception
    ) -> status_pb2.Status:
        """Map a failure to its status, log it, and audit it (before the answer leaves)."""
        status = status_of(error, call.caller)
        if isinstance(error, CHARGED):
            self._refusals.charge(key_of(call.caller, call.peer))
        if not isinstance(error, Refusal) and status.code == code_pb2.INTERNAL:
            log.exception("rpc crashed", exc_info=error)
        await self._finish(call, method, request, None, code_pb2.Code.Name(status.code), error)
        return status

    async def _finish(
        self,
        call: Call,
        method: Method,
        request: Any,
        response: Message | None,
        outcome: str,
        error: Exception | None = None,
    ) -> None:
        """Write the audit record the call owes, then log the outcome and count it. An OK
        answer whose record cannot be written is not given (AuditUnavailable); a failure
        is still answered (AuditLog logged why its record is missing)."""
        if not call.audited:
            try:
                await self._auditor.record(call, method, request, response, outcome, error)
            except AuditUnavailable:
                if outcome == "OK":
                    raise
        fields: dict[str, object] = {"outcome": outcome, "duration_ms": call.elapsed_ms()}
        if call.graph.client_request_ids:
            # Which Graph requests were ours, for Microsoft support and Graph's own logs.
            fields["graph_client_request_ids"] = call.graph.client_request_ids
            fields["graph_request_ids"] = call.graph.request_ids
        if error is not None:
            fields["error"] = str(error)[:MAX_QUOTED_CHARS]
        # A call turned away is counted in one line per caller and 5 s (rpc/turned_away.py):
        # a line each would make a flood of lines.
        level = logging.DEBUG if isinstance(error, TooManyRefusals) else logging.INFO
        log.log(level, "rpc done" if outcome == "OK" else "rpc failed", extra={"fields": fields})
        _count_handled(call, method, outcome)


def _rpc_type(method: Method) -> str:
    return "server_stream" if method.streaming else "unary"


def _count_handled(call: Call, method: Method, outcome: str) -> None:
    labels = (method.service.full_name, method.name, _rpc_type(method))
    metrics.RPC_HANDLED.labels(*labels, outcome, call.caller).inc()
    metrics.RPC_SECONDS.labels(*labels).observe(call.elapsed_ms() / 1000)
