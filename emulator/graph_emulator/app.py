"""Assembles the emulator: Entra ID, Graph's backup API and the control API in one ASGI app."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp

from graph_emulator import control, entra, managed_identity
from graph_emulator.browse import BrowseStore
from graph_emulator.browse_api import BrowseApi
from graph_emulator.counters import Counters
from graph_emulator.entra import GRAPH_RESOURCE, Directory
from graph_emulator.faults import FaultBook, GraphMiddleware
from graph_emulator.granular import GranularItems
from graph_emulator.graph import MAX_PAGE_SIZE, unknown_route
from graph_emulator.protection import Protection, ProtectionApi
from graph_emulator.realistic import Realism
from graph_emulator.sessions import WORKLOADS, Clock, SessionStore
from graph_emulator.sessions_api import AllSessionsApi, SessionsApi

# The most recent Graph and Entra requests, for tests to see what the gateway sent.
JOURNAL_SIZE = 5000
# The app the seeded SharePoint and Exchange sessions were made by (not the gateway's).
OTHER_WORKLOADS_APP = "4c0b2d3e-5f60-4718-8293-a4b5c6d7e8f9"
# Besides Graph, tokens can be had for the gateway's own audience (caller authentication).
GATEWAY_AUDIENCE = "api://graphrestore"


@dataclass
class Emulator:
    """All state of one emulated tenant."""

    tenant_id: str
    counters: Counters = field(default_factory=Counters)
    faults: FaultBook = field(default_factory=FaultBook)
    clock: Clock = field(default_factory=Clock)
    journal: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=JOURNAL_SIZE))
    # The secret the platform gives its workloads in IDENTITY_HEADER.
    identity_header: str = field(default_factory=entra.new_secret)
    # The realistic profile's settings; None: the default profile (no throttling, etc.).
    realism: Realism | None = None
    # Most items one page of a collection holds, whatever $top asks (Graph pages on the
    # server's side too: a page may hold fewer items than $top, and a client reads on).
    page_size_limit: int = MAX_PAGE_SIZE

    def __post_init__(self) -> None:
        self.directory = Directory(self.tenant_id, self.counters)
        self.protection = Protection()
        self.sessions = SessionStore(self.clock, self.protection.describe, self.realism)
        self.browse = BrowseStore(self.clock, self.protection, self.sessions.failing_restore_points)
        # The tenant also restores SharePoint sites and Exchange mailboxes: their drafts
        # share restoreSessions with OneDrive's. They were made a day before the emulator
        # started: lists show them at once, whatever the realistic profile's lag.
        for kind in ("sharePoint", "sharePoint", "exchange", "exchange"):
            draft = self.sessions.create(OTHER_WORKLOADS_APP, [], kind)
            draft.created = draft.last_modified = draft.created - timedelta(days=1)
            draft.created_monotonic = -math.inf

    def asgi_app(self) -> ASGIApp:
        granular_items = GranularItems(self.browse)
        sessions = [
            SessionsApi(
                self.directory,
                self.sessions,
                self.protection,
                self.counters,
                workload,
                granular_items,
            )
            for workload in WORKLOADS.values()
        ]
        protection = ProtectionApi(self.directory, self.protection)
        routes = Starlette(
            exception_handlers={404: unknown_route, 405: unknown_route},
            routes=[
                *entra.routes(self.directory, (GRAPH_RESOURCE, GATEWAY_AUDIENCE)),
                *managed_identity.routes(self.directory, self.identity_header, (GRAPH_RESOURCE,)),
                *AllSessionsApi(self.directory, self.sessions).routes(),
                *(route for api in sessions for route in api.routes()),
                *protection.routes(),
                *BrowseApi(self.directory, self.browse).routes(),
                *control.routes(self),
            ],
        )
        routes.state.page_size_limit = self.page_size_limit
        # Graph does not redirect a path with a trailing slash: it answers it.
        routes.router.redirect_slashes = False
        # Outside Starlette's own middleware, so a fault can reach uvicorn's transport.
        return GraphMiddleware(routes, self.faults, self.counters, self.journal, self.realism)
