"""The call pipeline. Every RPC of the restore service passes the same steps, in order:

    identify   the caller (mTLS certificate, bearer JWT, or anonymous on loopback); one
               whose refused-call budget is spent is turned away (access/refusals.py)
    validate   the request (rpc/methods.py's table; no Graph call)
    authorize  access/authorize.py, one result: the policy (method, ownership of the
               session named, destination and count of what it adds); for changes, in
               each attempt, facts from Graph (bounded; a failed lookup refuses) and
               room reserved for max_artifacts
    once       mutating RPCs: at most once per (caller, method, request_id), handed one
               value (Mutation: the records/exactly_once.py Job)
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
from urllib.parse import quote

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, status_pb2
from google.rpc.error_details_pb2 import BadRequest
from grpc_status import rpc_status

from graphrestore_gateway import metrics
from graphrestore_gateway.access.authorize import Authorization, Authorizer
from graphrestore_gateway.access.callers import Authenticator
from graphrestore_gateway.access.policy import PolicyError
from graphrestore_gateway.access.policy_source import PolicySource
from graphrestore_gateway.access.refusals import CHARGED, RefusalBudget, key_of
from graphrestore_gateway.exceptions import (
    MAX_QUOTED_CHARS,
    AuditUnavailable,
    InvalidRequest,
    Refusal,
    TooManyRefusals,
    TooManyWatches,
    Unauthenticated,
)
from graphrestore_gateway.graph.client import GraphClient
from graphrestore_gateway.graph.deadline import Deadline
from graphrestore_gateway.records.exactly_once import Attempt, ExactlyOnce, Made
from graphrestore_gateway.records.store import RequestStore
from graphrestore_gateway.restore import call as rpc_call
from graphrestore_gateway.restore.call import Call
from graphrestore_gateway.restore.drive_units import DriveDirectory
from graphrestore_gateway.restore.searches import SearchGrants
from graphrestore_gateway.restore.service import RestoreService
from graphrestore_gateway.restore.watch import until_revoked
from graphrestore_gateway.restore.workloads import WORKLOADS
from graphrestore_gateway.rpc.auditor import Auditor
from graphrestore_gateway.rpc.methods import METHODS, Method
from graphrestore_gateway.rpc.open_watches import OpenWatches
from graphrestore_gateway.rpc.status import status_of

log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]
# Give up a little before the caller does, so our status (with details) still reaches it.
DEADLINE_MARGIN_S = 0.1
# Who the gateway took the caller for, on every answer that succeeds (restorectl's run
# records name it); percent-encoded: a metadata value is ASCII.
CALLER_HEADER = "graphrestore-caller"
SAFE = ":/@!$&'()*+,;=~"


class Pipeline:
    def __init__(
        self,
        authenticator: Authenticator,
        policy: PolicySource,
        store: RequestStore,
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
        self._authorizer = Authorizer(policy, store, SearchGrants(store), drives)
        self._once = once
        self._auditor = auditor
        # One view of Graph per workload, made once: a call only names its payer.
        self._graphs = {w.name: graph.of_workload(w.sessions) for w in WORKLOADS.values()}
        self._max_watches = max_watches_per_caller
        self._watches: Counter[str] = Counter()
        metrics.WATCH_STREAMS.set_function(lambda: sum(self._watches.values()))
        self._open_watches = OpenWatches(policy, store)
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
        # A trailer: it leaves with the status, at no cost (sent early as a header, it was
        # a write of its own: +0.06-0.09 ms of CPU a call). A failure's status replaces it.
        context.set_trailing_metadata(((CALLER_HEADER, quote(call.caller, safe=SAFE)),))

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

    async def _admit(self, method: Method, request: Any, call: Call) -> Authorization:
        """Validate, then ask the policy (no Graph call)."""
        violations = method.validate(request)
        if violations:
            raise InvalidRequest(violations)
        call.restores = method.restores(request)
        if method.mutating:
            # AIP-155: one request, whatever the case of its hex digits.
            request.request_id = request.request_id.lower()
            call.request_id = request.request_id
        return await self._authorizer.admit(call, method.asked(request))

    async def _serve(
        self,
        method: Method,
        behavior: Callable[[Any, Call], Awaitable[Message]],
        request: Any,
        call: Call,
    ) -> Message:
        authorization = await self._admit(method, request, call)
        graph = self._graphs[method.workload.name].on_behalf_of(call.caller, call.graph)
        if not method.mutating:
            await authorization.check_browsed_units(graph)
            return await behavior(request, call)
        if getattr(request, "validate_only", False):
            # Every rule a create would meet, those that ask Graph (which units the
            # restore points are of) too; only the create itself is left out.
            async with authorization.checked_against_graph(graph):
                return await behavior(request, call)
        return await self._once.run(
            Mutation(method, behavior, request, call, authorization, graph, self._auditor)
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
                response = await self._serve(method, behavior, request, call)
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
                await self._admit(method, request, call)
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


class Mutation:
    """A mutating call as exactly-once runs it (records/exactly_once.py's Job): its
    work is the rules that need Graph, then the servicer method; its answer is audited
    beside the answer's record."""

    def __init__(
        self,
        method: Method,
        behavior: Callable[[Any, Call], Awaitable[Message]],
        request: Any,
        call: Call,
        authorization: Authorization,
        graph: GraphClient,
        auditor: Auditor,
    ) -> None:
        self.caller = call.caller
        self.method = method.workload.scoped(method.name)
        self.request_id = call.request_id
        self.request = request
        self.contents = method.contents(request)
        self.answer_type = method.response_type
        self.deadline = call.deadline
        self._rpc = method
        self._behavior = behavior
        self._call = call
        self._authorization = authorization
        self._graph = graph
        self._auditor = auditor

    async def work(self, attempt: Attempt) -> Message:
        self._call.request_key = attempt.request_key
        self._call.reconcile_since = attempt.interrupted_at
        self._call.reconciled_session_id = attempt.interrupted_made
        async with self._authorization.checked_against_graph(self._graph):
            return await self._behavior(self.request, self._call)

    async def answered(self, answer: Message) -> None:
        await self._auditor.record(self._call, self._rpc, self.request, answer, "OK", None)
        self._call.audited = True

    def made(self) -> Made:
        return Made(dict.fromkeys(self._call.made, self._call.caller), self._call.holdings)


def _rpc_type(method: Method) -> str:
    return "server_stream" if method.streaming else "unary"


def _count_handled(call: Call, method: Method, outcome: str) -> None:
    labels = (method.service.full_name, method.name, _rpc_type(method))
    metrics.RPC_HANDLED.labels(*labels, outcome, call.caller).inc()
    metrics.RPC_SECONDS.labels(*labels).observe(call.elapsed_ms() / 1000)
