"""grpc.health.v1 fed by real checks, one per dependency: a Graph token can be had, the
request store answers. Any failing check makes the gateway NOT_SERVING for readiness (it
leaves rotation); it is SERVING again as soon as every check passes. Liveness is apart:
restarting the process cures no dependency, so it never follows them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

CHECK_EVERY_S = 2.0
CHECK_TIMEOUT_S = 2.0
# Service names a probe asks for (Kubernetes' gRPC probe sends one as `service`).
# LIVENESS is SERVING while the process serves; READINESS, like the server's own "" and
# each restore service's name, is the dependencies' health.
LIVENESS = "liveness"
READINESS = "readiness"

log = logging.getLogger(__name__)


@dataclass
class Check:
    """One dependency: `probe` answers whether it works now."""

    name: str
    probe: Callable[[], Awaitable[bool]]


class TokenHealth:
    """Told by the token provider whether Entra ID gives tokens (it retries by itself);
    a change is checked at once (`on_change`), not at the next round."""

    def __init__(self) -> None:
        self.healthy = True
        self.on_change: Callable[[], None] = lambda: None

    def report(self, healthy: bool) -> None:
        if healthy != self.healthy:
            self.healthy = healthy
            self.on_change()

    async def probe(self) -> bool:
        return self.healthy


class HealthReporter:
    """Runs every check now and then and sets the health service's status for the whole
    server, for READINESS and for each named service."""

    def __init__(self, servicer: HealthServicer, services: list[str], checks: list[Check]) -> None:
        self._servicer = servicer
        self._services = ["", READINESS, *services]
        self._checks = checks
        self._failing: set[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._pokes: set[asyncio.Task[None]] = set()

    async def check_now(self) -> None:
        failing = {check.name for check in self._checks if not await _passes(check)}
        if failing == self._failing:
            return
        self._failing = failing
        status = (
            health_pb2.HealthCheckResponse.NOT_SERVING
            if failing
            else health_pb2.HealthCheckResponse.SERVING
        )
        log.warning(
            "health", extra={"fields": {"serving": not failing, "failing": sorted(failing)}}
        )
        for service in self._services:
            await self._servicer.set(service, status)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def poke(self) -> None:
        """Check now, without waiting for the next round."""
        task = asyncio.ensure_future(self.check_now())
        self._pokes.add(task)
        task.add_done_callback(self._pokes.discard)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self.check_now()
            await asyncio.sleep(CHECK_EVERY_S)


async def _passes(check: Check) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            return await check.probe()
    except Exception as exc:  # a check that cannot run is a failing check
        log.warning(
            "health check failed", extra={"fields": {"check": check.name, "error": str(exc)}}
        )
        return False
