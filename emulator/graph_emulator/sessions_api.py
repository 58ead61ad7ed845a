"""Graph's restore sessions of the three workloads: create, update, their restore
artifacts and bulk addition requests per workload (SessionsApi), and what all share on
restoreSessions: list, get, delete, activate (AllSessionsApi).

Of the SharePoint and Exchange entity sets, only the calls a v1.0 page documents are
served; the schema-only ones (GET, DELETE on sharePointRestoreSessions/{id} ...) answer
as unknown paths do, so nothing can come to rely on them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph_emulator import schema
from graph_emulator.browse import BrowseSession
from graph_emulator.counters import Counters
from graph_emulator.entra import ROLE_RESTORE_READ, ROLE_RESTORE_READWRITE, Directory
from graph_emulator.granular import GranularItems
from graph_emulator.graph import (
    BASE,
    GRAPH_ID,
    GraphFailure,
    Handler,
    conform,
    failed_delta_item,
    guard,
    json_body,
    late_members,
    page,
)
from graph_emulator.protection import SITE, Protection, ProtectionUnit, parse_time_period
from graph_emulator.sessions import (
    GRANULAR_MAILBOX,
    ONEDRIVE,
    Artifact,
    BulkRequest,
    Session,
    SessionStore,
    Workload,
    graph_time,
)
from graph_emulator.tree import Item

MAX_ARTIFACTS_PER_REQUEST = 50
MAX_BULK_NAMES = 10_000
DESTINATION_TYPES = frozenset({"new", "inPlace"})
RESTORE_POINT_ID = GRAPH_ID
# Who enabled the tenant's backup service (the service root names them).
SERVICE_ENABLED_BY = "40927a5d-4f18-4966-9bfe-2e00cd1d0ee8"


def _route(directory: Directory, path: str, handler: Handler, method: str, role: str) -> Route:
    return Route(path, guard(directory, role, handler), methods=[method])


def _session(store: SessionStore, request: Request, kind: str | None) -> Session:
    """The session the path names: one of `kind` on a workload's paths, any workload's
    (kind None) on restoreSessions/{id}."""
    session_id = request.path_params["id"]
    if not GRAPH_ID.match(session_id):
        raise GraphFailure(400, "InvalidRestoreSessionId", "The restore session id is invalid.")
    session = store.get(session_id)
    if session is None or not (kind is None or session.kind == kind):
        raise GraphFailure(404, "RestoreSessionNotFound", "Restore session not found.")
    return session


class AllSessionsApi:
    """The service root and restoreSessions, which every workload's sessions share."""

    def __init__(self, directory: Directory, store: SessionStore) -> None:
        self.directory = directory
        self.store = store

    def routes(self) -> list[Route]:
        any_session = f"{BASE}/restoreSessions"
        write, read = ROLE_RESTORE_READWRITE, ROLE_RESTORE_READ
        return [
            _route(self.directory, BASE, self.service_root, "GET", read),
            _route(self.directory, any_session, self.list_any, "GET", read),
            _route(self.directory, f"{any_session}/{{id}}", self.get_any, "GET", read),
            _route(self.directory, f"{any_session}/{{id}}", self.delete_any, "DELETE", write),
            _route(self.directory, f"{any_session}/{{id}}/activate", self.activate, "POST", write),
        ]

    async def service_root(self, request: Request) -> Response:
        """GET /solutions/backupRestore: the tenant's backup service, enabled."""
        return JSONResponse(
            {
                "@odata.context": "/solutions/backupRestore/$metadata"
                "#solutions/backupRestore/$entity",
                "serviceStatus": {
                    "status": "enabled",
                    "disableReason": "none",
                    "backupServiceConsumer": "firstparty",
                    "lastModifiedDateTime": graph_time(self.store.clock.now()),
                    "lastModifiedBy": {"user": {"identity": SERVICE_ENABLED_BY}},
                },
            }
        )

    async def list_any(self, request: Request) -> Response:
        """restoreSessions: every workload's sessions, told apart by @odata.type."""
        late = late_members(request)
        return page(
            request,
            self.store.listed(),
            lambda session: session.to_graph(late),
            "restoreSessions",
        )

    async def get_any(self, request: Request) -> Response:
        session = _session(self.store, request, None)
        return JSONResponse(session.to_graph(late_members(request)))

    async def delete_any(self, request: Request) -> Response:
        return _delete(self.store, _session(self.store, request, None))

    async def activate(self, request: Request) -> Response:
        session = _session(self.store, request, None)
        if (await request.body()).strip():
            raise GraphFailure(400, "BadRequest", "activate takes no request body.")
        _require_draft(session)
        # Not documented whether the 25 count per workload or across all three: across
        # all three, the stricter reading.
        if self.store.active_count() >= self.store.max_active:
            raise GraphFailure(
                500,
                "TooManyActiveRestoreSessions",
                "The tenant has too many active restore sessions. Try again later.",
            )
        now = self.store.clock.now()
        session.status = "activating"
        session.activated = now
        session.last_modified = now
        for artifact in session.artifacts.values():
            artifact.status = "scheduling"
        return JSONResponse(session.to_graph(late_members(request)))


class SessionsApi:
    """One workload's restore sessions: create, update, artifacts, bulk requests (and,
    for OneDrive, whose pages document them, get, list and delete on its entity set)."""

    def __init__(
        self,
        directory: Directory,
        store: SessionStore,
        protection: Protection,
        counters: Counters,
        workload: Workload,
        granular_items: GranularItems,
    ) -> None:
        self.directory = directory
        self.store = store
        self.protection = protection
        self.counters = counters
        self.workload = workload
        self.granular_items = granular_items

    def routes(self) -> list[Route]:
        w = self.workload
        sessions = f"{BASE}/{w.sessions}"
        bulk = f"{sessions}/{{id}}/{w.bulk_requests}"
        write, read = ROLE_RESTORE_READWRITE, ROLE_RESTORE_READ

        def route(path: str, handler: Handler, method: str, role: str) -> Route:
            return _route(self.directory, path, handler, method, role)

        routes = [
            route(sessions, self.create, "POST", write),
            route(f"{sessions}/{{id}}", self.update, "PATCH", write),
            route(f"{sessions}/{{id}}/{w.artifacts}", self.list_artifacts, "GET", read),
            route(bulk, self.create_bulk, "POST", write),
            route(bulk, self.list_bulk, "GET", read),
            route(f"{bulk}/{{bulk_id}}", self.get_bulk, "GET", read),
            route(f"{bulk}/{{bulk_id}}", self.delete_bulk, "DELETE", write),
        ]
        if w.granular_type != GRANULAR_MAILBOX:
            granular = f"{sessions}/{{id}}/{w.granular}"
            routes.append(route(granular, self.list_granular, "GET", write))
        if w.kind == ONEDRIVE:
            routes += [
                route(sessions, self.list_sessions, "GET", read),
                route(f"{sessions}/{{id}}", self.get, "GET", read),
                route(f"{sessions}/{{id}}", self.delete, "DELETE", write),
            ]
        return routes

    def _session(self, request: Request) -> Session:
        return _session(self.store, request, self.workload.kind)

    async def create(self, request: Request) -> Response:
        w = self.workload
        body = await json_body(request)
        odata_type = f"#microsoft.graph.{w.session_type}"
        # OData type names are case-sensitive: only the schema's spelling is taken.
        if body.get("@odata.type", odata_type) != odata_type:
            raise GraphFailure(400, "BadRequest", "Unexpected @odata.type for this entity set.")
        if w.artifacts in body and w.granular in body:
            raise GraphFailure(
                400,
                "InvalidArtifactRequest",
                f"A session takes {w.artifacts} or {w.granular}, not both.",
            )
        artifacts: list[tuple[str, str]] = []
        granular: list[tuple[str, str, str]] = []
        items: list[tuple[BrowseSession, Item]] = []
        if w.artifacts in body:
            artifacts = self._new_artifacts(body[w.artifacts])
            _within_create_limit(artifacts)
        if w.granular_type == GRANULAR_MAILBOX and w.granular in body:
            granular = self._granular_artifacts(body[w.granular])
            _within_create_limit(granular)
        elif w.granular in body:
            items = self.granular_items.parse(body[w.granular], w)
            _within_create_limit(items)
        conform(body, schema.validator(w.session_type))
        session = self.store.create(request.scope["graph_app_id"], artifacts, w.kind, granular)
        if items:
            self.granular_items.add(session, w, items)
        self.counters.sessions_created += 1
        return JSONResponse(session.to_graph(late_members(request)), status_code=201)

    def _new_artifacts(self, items: Any) -> list[tuple[str, str]]:
        return _parse_new_artifacts(items, self.protection, self.workload)

    def _granular_artifacts(self, items: Any) -> list[tuple[str, str, str]]:
        """Granular mailbox artifacts: each names a restore point a message search found,
        and that search (not documented beyond the examples: checked, the stricter)."""
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise GraphFailure(
                400,
                "InvalidArtifactRequest",
                f"{self.workload.granular} must be a list of objects.",
            )
        points = self._new_artifacts(
            [{k: v for k, v in item.items() if k != "searchResponseId"} for item in items]
        )
        found = []
        for item, (point, destination) in zip(items, points, strict=True):
            search_id = item.get("searchResponseId")
            if point not in self.protection.message_searches.get(str(search_id), set()):
                raise GraphFailure(
                    400,
                    "InvalidArtifactRequest",
                    f"searchResponseId {search_id!r} names no message search that found "
                    f"restore point {point}.",
                )
            found.append((point, destination, str(search_id)))
        return found

    async def get(self, request: Request) -> Response:
        session = self._session(request)
        return JSONResponse(session.to_graph(late_members(request)))

    async def list_sessions(self, request: Request) -> Response:
        w = self.workload
        late = late_members(request)
        expand = request.query_params.get("$expand")
        if expand not in (None, w.artifacts):
            raise GraphFailure(400, "BadRequest", f"Cannot expand {expand!r}.")

        def render(session: Session) -> dict[str, Any]:
            body = session.to_graph(late)
            if expand:
                body[w.artifacts] = [
                    a.to_graph()
                    for a in session.artifacts.values()
                    if a.artifact_type == w.artifact_type
                ]
            return body

        return page(
            request,
            [s for s in self.store.listed() if s.kind == w.kind],
            render,
            w.sessions,
        )

    async def update(self, request: Request) -> Response:
        w = self.workload
        session = self._session(request)
        body = await json_body(request)
        if w.granular_type != GRANULAR_MAILBOX and f"{w.granular}@delta" in body:
            return await self._update_granular(session, body)
        key = f"{w.artifacts}@delta"
        # A granular mailbox update is not documented: refused with the rest.
        delta = _delta(body, key, session)
        if session.job_type == "bulk":
            raise GraphFailure(
                403, "RestoreSessionActionNotAllowed", "A bulk restore session cannot be patched."
            )
        if session.job_type == "granular" or any(
            a.artifact_type == GRANULAR_MAILBOX for a in session.artifacts.values()
        ):
            raise GraphFailure(
                403,
                "RestoreSessionActionNotAllowed",
                f"A session of granular artifacts cannot be patched with {key}.",
            )
        removals = [item for item in delta if isinstance(item, dict) and "@removed" in item]
        additions = self._new_artifacts([item for item in delta if item not in removals])
        for item in delta:
            conform(
                item,
                schema.removed_item_validator()
                if isinstance(item, dict) and "@removed" in item
                else schema.validator(w.artifact_type),
            )
        existing_points = {a.restore_point_id for a in session.artifacts.values()}
        destinations = {a.destination_type for a in session.artifacts.values()}
        destinations.update(dest for _, dest in additions)
        if len(destinations) > 1:
            raise GraphFailure(
                400,
                "DifferentRestoreDestinationType",
                "All artifacts of a session must have the same destination type.",
            )
        # As documented: added artifacts are echoed, successful removals are not, and a
        # failed item carries @contentId and @Core.DataModificationException (409).
        answer: list[dict[str, Any]] = []
        for item in removals:
            artifact_id = str(item.get("id", ""))
            if session.artifacts.pop(artifact_id, None) is None:
                answer.append(
                    failed_delta_item(
                        {"id": artifact_id},
                        "remove",
                        "Invalid",
                        "The identifier to be removed from the restore session does not exist",
                    )
                )
        fresh = [(rp, dest) for rp, dest in additions if rp not in existing_points]
        for rp, dest in additions:
            if rp in existing_points:
                answer.append(
                    failed_delta_item(
                        {"restorePoint": {"id": rp}, "destinationType": dest},
                        "add",
                        "DuplicateArtifactInList",
                        "The restore point is already in the session.",
                    )
                )
        added_at = graph_time(self.store.clock.now())
        for artifact in self.store.add_artifacts(session, fresh):
            # The documented answer carries createdDateTime on added items (not in the schema).
            answer.append({**artifact.to_graph(), "createdDateTime": added_at})
        return JSONResponse(
            {
                "@odata.context": f"/solutions/backupRestore/$metadata#{w.sessions}/$delta",
                key: answer,
            }
        )

    async def _update_granular(self, session: Session, body: dict[str, Any]) -> Response:
        """Add and remove items of a granular session (or an empty draft, which becomes one)."""
        w = self.workload
        key = f"{w.granular}@delta"
        delta = _delta(body, key, session)
        if session.job_type != "granular" and (session.artifacts or session.bulk_requests):
            raise GraphFailure(
                403,
                "RestoreSessionActionNotAllowed",
                "Granular and standard artifacts are never in one session.",
            )
        answer = self.granular_items.apply(session, w, delta)
        session.last_modified = self.store.clock.now()
        return JSONResponse(
            {
                "@odata.context": f"/solutions/backupRestore/$metadata#{w.sessions}/$delta",
                "id": session.id,
                key: answer,
            }
        )

    async def list_granular(self, request: Request) -> Response:
        w = self.workload
        session = self._session(request)
        listed = [a for a in session.artifacts.values() if a.artifact_type == w.granular_type]
        return page(request, listed, lambda artifact: artifact.to_graph(), w.granular)

    async def delete(self, request: Request) -> Response:
        return _delete(self.store, self._session(request))

    async def list_artifacts(self, request: Request) -> Response:
        w = self.workload
        session = self._session(request)
        listed = [a for a in session.artifacts.values() if a.artifact_type == w.artifact_type]
        return page(request, listed, Artifact.to_graph, w.artifacts)

    async def create_bulk(self, request: Request) -> Response:
        w = self.workload
        session = self._session(request)
        body = await json_body(request)
        _require_draft(session)
        if session.bulk_requests or session.artifacts:
            raise GraphFailure(
                400,
                "BulkRestoreInvalidCreateRequest",
                "A session takes one bulk request, and no mix of bulk and manual artifacts.",
            )
        destination = body.get("destinationType", "new")
        if destination not in DESTINATION_TYPES:
            raise GraphFailure(
                400, "BulkRestoreInvalidCreateRequest", f"Unknown destination type {destination!r}."
            )
        if body.get("protectionUnitIds"):
            # Documented as "not implemented yet, don't use": refused, not guessed at.
            raise GraphFailure(
                400,
                "BulkRestoreInvalidCreateRequest",
                f"protectionUnitIds is not supported: name them by {' or '.join(w.bulk_names)}.",
            )
        names = {key: body.get(key) or [] for key in w.bulk_names}
        if not all(
            isinstance(v, list) and all(isinstance(i, str) for i in v) for v in names.values()
        ):
            raise GraphFailure(
                400, "BulkRestoreInvalidCreateRequest", "Names must be lists of strings."
            )
        total = sum(len(v) for v in names.values())
        if total == 0:
            raise GraphFailure(
                400, "BulkRestoreInvalidCreateRequest", f"Name at least one {w.unit_kind}."
            )
        if total > MAX_BULK_NAMES:
            raise GraphFailure(
                400,
                "BulkRestoreRestorationResourcesCountExceedsLimit",
                f"At most {MAX_BULK_NAMES} can be restored in one bulk request.",
            )
        start, end = parse_time_period(
            body.get("protectionTimePeriod"), "BulkRestoreInvalidCreateRequest"
        )
        conform(body, schema.validator(w.bulk_type))
        preference = body.get("restorePointPreference") or "latest"
        units, unresolved = self._resolve(names, start, end, preference)
        request_ = BulkRequest(
            id=str(uuid.uuid4()),
            body=body,
            created=self.store.clock.now(),
            app_id=request.scope["graph_app_id"],
            unresolved=unresolved,
        )
        picks = []
        for unit in units:
            points = unit.points_between(start, end, preference)
            picks.append((points[0].id, destination))
        realism = self.store.realism
        if realism is None:
            self.store.add_artifacts(session, picks)
        else:
            request_.pending = self.store.new_artifacts(session, picks)
            request_.resolves_at = request_.created + timedelta(
                seconds=realism.bulk_resolve_s(total)
            )
        session.job_type = "bulk"
        session.bulk_requests[request_.id] = request_
        return JSONResponse(request_.to_graph(session), status_code=201)

    def _resolve(
        self, names: dict[str, list[str]], start: datetime, end: datetime, preference: str
    ) -> tuple[list[ProtectionUnit], list[str]]:
        """What a bulk request names -> units with a point in the period, and the names
        that could not be resolved (carried in the request's error). A drive or mailbox
        is named by e-mail or directory object id, a site by web URL or site id."""
        kind = self.workload.unit_kind
        by_name, by_id = self.workload.bulk_names
        units: dict[str, ProtectionUnit] = {}
        unresolved = []
        for name in names[by_name]:
            if kind == SITE:
                if not name.strip().lower().startswith("http"):
                    raise GraphFailure(
                        400, "BulkRestoreInvalidCreateRequestSiteUrl", f"Invalid site URL {name!r}."
                    )
            elif "@" not in name:
                raise GraphFailure(
                    400, "BulkRestoreInvalidCreateRequestUserEmail", f"Invalid address {name!r}."
                )
            unit = self.protection.find(kind, name)
            if unit is None and kind != SITE:
                raise GraphFailure(
                    400,
                    "BulkRestoreInvalidCreateRequestUserEmail",
                    f"No protected {kind} for {name}.",
                )
            if unit is None:
                unresolved.append(name)
            else:
                units.setdefault(unit.id, unit)
        for name in names[by_id]:
            found = self.protection.find(kind, name)
            if found is None and kind != SITE:
                raise GraphFailure(
                    400, "BulkRestoreInvalidCreateRequest", f"Unknown {by_id} {name}."
                )
            if found is None:
                unresolved.append(name)
            else:
                units.setdefault(found.id, found)
        resolved = []
        for unit in units.values():
            if unit.points_between(start, end, preference):
                resolved.append(unit)
            else:
                unresolved.append(unit.site_web_url if kind == SITE else unit.email)
        return resolved, unresolved

    def _bulk_request(self, session: Session, request: Request) -> BulkRequest:
        found = session.bulk_requests.get(request.path_params["bulk_id"])
        if found is None:
            raise GraphFailure(
                404, "BulkRestoreArtifactsNotFound", "Bulk addition request not found."
            )
        return found

    async def list_bulk(self, request: Request) -> Response:
        """The documented list takes no query option: a first page asked with one is
        refused, not obeyed. Later pages are the emulator's own next links."""
        if request.query_params and "$skiptoken" not in request.query_params:
            raise GraphFailure(400, "BadRequest", "This call supports no query options.")
        session = self._session(request)
        return page(
            request,
            list(session.bulk_requests.values()),
            lambda bulk: bulk.to_graph(session),
            self.workload.bulk_requests,
        )

    async def get_bulk(self, request: Request) -> Response:
        session = self._session(request)
        return JSONResponse(self._bulk_request(session, request).to_graph(session))

    async def delete_bulk(self, request: Request) -> Response:
        session = self._session(request)
        bulk = self._bulk_request(session, request)
        _require_draft(session)
        del session.bulk_requests[bulk.id]
        session.artifacts.clear()
        session.job_type = "standard"
        return Response(status_code=204)


def _within_create_limit(artifacts: list[Any]) -> None:
    if not artifacts:
        raise GraphFailure(400, "InvalidArtifactRequest", "The artifact list is empty.")
    if len(artifacts) > MAX_ARTIFACTS_PER_REQUEST:
        raise GraphFailure(
            413,
            "RestoreArtifactsLimitBreached",
            f"At most {MAX_ARTIFACTS_PER_REQUEST} artifacts can be added in one request.",
        )


def _delete(store: SessionStore, session: Session) -> Response:
    _require_draft(session)
    del store.sessions[session.id]
    return Response(status_code=204)


def _delta(body: dict[str, Any], key: str, session: Session) -> list[Any]:
    """The changes a PATCH asks for under `key`: a list, not too long, to a draft."""
    delta = body.get(key)
    if not isinstance(delta, list) or not delta:
        raise GraphFailure(400, "InvalidPatchRequest", f"{key} is required.")
    if len(delta) > MAX_ARTIFACTS_PER_REQUEST:
        raise GraphFailure(
            400,
            "RestoreArtifactsLimitBreached",
            f"At most {MAX_ARTIFACTS_PER_REQUEST} artifacts can be changed in one request.",
        )
    _require_draft(session)
    return delta


def _require_draft(session: Session) -> None:
    if session.status != "draft":
        raise GraphFailure(
            403,
            "RestoreSessionActionNotAllowed",
            f"The action is not allowed on a session in status '{session.status}'.",
        )


def _restore_point_id(artifact: dict[str, Any]) -> str:
    """Accept `{"id": ...}` and the older `{"@odata.id": ".../restorePoints/ID"}` forms."""
    point = artifact.get("restorePoint")
    if not isinstance(point, dict):
        return ""
    if "id" in point:
        return point["id"] if isinstance(point["id"], str) else ""
    reference = point.get("@odata.id")
    if not isinstance(reference, str):
        return ""
    # A bare id, ".../restorePoints/ID" or ".../restorePoints('ID')".
    return reference.rsplit("/", 1)[-1].removeprefix("restorePoints('").removesuffix("')")


def _parse_new_artifacts(
    items: Any, protection: Protection, workload: Workload
) -> list[tuple[str, str]]:
    """Validate added artifacts as Graph does; return (restore point id, destination) pairs."""
    if not isinstance(items, list):
        raise GraphFailure(400, "InvalidArtifactRequest", f"{workload.artifacts} must be a list.")
    artifacts: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            raise GraphFailure(400, "InvalidArtifactRequest", "An artifact must be an object.")
        restore_point_id = _restore_point_id(item)
        if not RESTORE_POINT_ID.match(restore_point_id):
            raise GraphFailure(
                400, "InvalidRestorePoint", "The restore point id is invalid or empty."
            )
        point = protection.restore_point(restore_point_id)
        if point is None:
            raise GraphFailure(
                400, "InvalidRestorePoint", f"Restore point {restore_point_id} does not exist."
            )
        # Not documented: a point of another workload's unit is refused (the stricter).
        if not protection.units[point.unit_id].serves(workload.unit_kind):
            raise GraphFailure(
                400,
                "InvalidRestorePoint",
                f"Restore point {restore_point_id} is not a {workload.unit_kind} restore point.",
            )
        destination = item.get("destinationType")
        if destination not in DESTINATION_TYPES:
            raise GraphFailure(400, "InvalidPathType", f"Unknown destination type '{destination}'.")
        artifacts.append((restore_point_id, destination))
    if len({dest for _, dest in artifacts}) > 1:
        raise GraphFailure(
            400,
            "DifferentRestoreDestinationType",
            "All artifacts of a session must have the same destination type.",
        )
    if len({rp for rp, _ in artifacts}) != len(artifacts):
        raise GraphFailure(
            400, "DuplicateArtifactInList", "The same restore point appears twice in the list."
        )
    return artifacts
