"""Graph's browse session routes: create, get and list each kind, list all kinds, and the
browse action with its next pages, at the documented typed paths and at the schema's
browseSessions/{id}/browse (the two disagree; both are served).

Every call needs BackupRestore-Restore.ReadWrite.All, reads included (no Read permission
is documented for them). The schema-only calls (GET, PATCH, DELETE on
browseSessions/{id}, POST on browseSessions, $count, the browse(nextFetchToken=...)
function) answer as unknown paths do."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph_emulator import schema
from graph_emulator.browse import (
    KINDS,
    PAGE_SIZE,
    BrowseSession,
    BrowseStore,
    Kind,
    Query,
    item_to_graph,
)
from graph_emulator.entra import ROLE_RESTORE_READWRITE, Directory
from graph_emulator.graph import BASE, GRAPH_ID, GraphFailure, Handler, conform, guard, json_body

ANY_KIND = "browseSessions"
BROWSE_CONTEXT = (
    "/solutions/backupRestore/$metadata#Collection(microsoft.graph.browseQueryResponseItem)"
)


class BrowseApi:
    def __init__(self, directory: Directory, store: BrowseStore) -> None:
        self.directory = directory
        self.store = store

    def routes(self) -> list[Route]:
        def route(path: str, handler: Handler, method: str) -> Route:
            return Route(
                f"{BASE}/{path}",
                guard(self.directory, ROLE_RESTORE_READWRITE, handler),
                methods=[method],
            )

        routes = [
            route(ANY_KIND, self.list_any, "GET"),
            route(f"{ANY_KIND}/{{id}}/browse", self._browse(None), "POST"),
            route(f"{ANY_KIND}/{{id}}/browse", self._next_page(None), "GET"),
        ]
        for kind in KINDS:
            routes += [
                route(kind.entity_set, self._create(kind), "POST"),
                route(kind.entity_set, self._list(kind), "GET"),
                route(f"{kind.entity_set}/{{id}}", self._get(kind), "GET"),
                route(f"{kind.entity_set}/{{id}}/browse", self._browse(kind), "POST"),
                route(f"{kind.entity_set}/{{id}}/browse", self._next_page(kind), "GET"),
            ]
        return routes

    def _session(self, request: Request, kind: Kind | None) -> BrowseSession:
        session_id = request.path_params["id"]
        if not GRAPH_ID.match(session_id):
            raise GraphFailure(400, "BadRequest", "The browse session id is invalid.")
        session = self.store.get(session_id)
        if session is None or not (kind is None or session.kind == kind):
            raise GraphFailure(404, "BrowseSessionNotFound", "Browse session not found.")
        return session

    def _create(self, kind: Kind) -> Handler:
        async def create(request: Request) -> Response:
            body = await json_body(request)
            _no_query_options(request)
            point_id = body.get("restorePointId")
            if not isinstance(point_id, str) or not GRAPH_ID.match(point_id):
                raise GraphFailure(400, "InvalidRestorePoint", "restorePointId is required.")
            if body.get("@odata.type", f"#microsoft.graph.{kind.type_name}") != (
                f"#microsoft.graph.{kind.type_name}"
            ):
                raise GraphFailure(400, "BadRequest", "Unexpected @odata.type for this entity set.")
            conform(body, schema.validator(kind.type_name))
            extra = set(body) - {"restorePointId", "@odata.type"}
            if extra:
                # The page lists restorePointId as the one property a create takes.
                raise GraphFailure(
                    400, "BadRequest", f"A create takes only restorePointId, not {sorted(extra)}."
                )
            session = self.store.create(kind, request.scope["graph_app_id"], point_id)
            answer = session.to_graph(self.store.clock.now(), typed=False)
            return JSONResponse(_entity(kind, answer), status_code=201)

        return create

    def _get(self, kind: Kind) -> Handler:
        async def get(request: Request) -> Response:
            _no_query_options(request)
            session = self._session(request, kind)
            return JSONResponse(_entity(kind, session.to_graph(self.store.clock.now(), False)))

        return get

    def _list(self, kind: Kind) -> Handler:
        async def list_kind(request: Request) -> Response:
            return self._listing(request, kind, kind.entity_set)

        return list_kind

    async def list_any(self, request: Request) -> Response:
        return self._listing(request, None, ANY_KIND)

    def _listing(self, request: Request, kind: Kind | None, context: str) -> Response:
        """Every session in one page: the pages document no query option and no paging."""
        _no_query_options(request)
        now = self.store.clock.now()
        return JSONResponse(
            {
                "@odata.context": f"/solutions/backupRestore/$metadata#{context}",
                "value": [s.to_graph(now, typed=True) for s in self.store.listed(kind)],
            }
        )

    def _browse(self, kind: Kind | None) -> Handler:
        async def browse(request: Request) -> Response:
            # The SharePoint page sends no body ("an empty body"): read as {}.
            body = await json_body(request)
            _no_query_options(request)
            conform(
                body,
                schema.request_validator(f"/{ANY_KIND}/{{browseSessionBase-id}}/browse", "POST"),
            )
            session = self._ready(request, kind)
            return self._page(request, session, Query.from_body(body), 0)

        return browse

    def _next_page(self, kind: Kind | None) -> Handler:
        async def next_page(request: Request) -> Response:
            if set(request.query_params) != {"$skiptoken"}:
                raise GraphFailure(
                    400, "BadRequest", "A next page is read with its $skiptoken only."
                )
            session = self._ready(request, kind)
            token = _decode(request.query_params["$skiptoken"])
            if token.get("session") != session.id:
                raise GraphFailure(
                    400, "BadRequest", "The $skiptoken is not of this browse session."
                )
            return self._page(request, session, Query.from_token(token), token["offset"])

        return next_page

    def _ready(self, request: Request, kind: Kind | None) -> BrowseSession:
        session = self._session(request, kind)
        status = session.status(self.store.clock.now())
        if status != "created":
            raise GraphFailure(
                409, "BrowseSessionNotReady", f"The browse session is {status}, not created."
            )
        return session

    def _page(
        self, request: Request, session: BrowseSession, query: Query, offset: int
    ) -> Response:
        """One page: @odata.count is the number of items on it (every documented page says
        10 or 1, what it holds), @odata.nextLink while more remain."""
        items = query.run(session)
        shown = items[offset : offset + PAGE_SIZE]
        moment = session.point.protected_at
        body: dict[str, Any] = {"@odata.context": BROWSE_CONTEXT, "@odata.count": len(shown)}
        if offset + PAGE_SIZE < len(items):
            token = {**query.to_token(), "session": session.id, "offset": offset + PAGE_SIZE}
            body["@odata.nextLink"] = str(
                request.url.replace(query="").include_query_params(**{"$skiptoken": _encode(token)})
            )
        body["value"] = [item_to_graph(item, moment) for item in shown]
        return JSONResponse(body)


def _entity(kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "@odata.context": f"/solutions/backupRestore/$metadata#{kind.entity_set}/$entity",
        **body,
    }


def _no_query_options(request: Request) -> None:
    """The pages say these calls support no query parameters: refused, not ignored."""
    if request.query_params:
        raise GraphFailure(400, "BadRequest", "This call supports no query options.")


def _encode(token: dict[str, Any]) -> str:
    """Base64 JSON, as the documented $skiptoken is (opaque to callers)."""
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")


def _decode(raw: str) -> dict[str, Any]:
    try:
        token = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise GraphFailure(400, "BadRequest", "The $skiptoken is invalid.") from exc
    offset = token.get("offset") if isinstance(token, dict) else None
    if not isinstance(offset, int) or offset < 0:
        raise GraphFailure(400, "BadRequest", "The $skiptoken is invalid.")
    checked: dict[str, Any] = token
    return checked
