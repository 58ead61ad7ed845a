"""Microsoft Graph's backup-restore API for OneDrive, as graph-api.md documents it."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph_emulator.counters import Counters
from graph_emulator.entra import (
    GRAPH_RESOURCE,
    ROLE_RESTORE_READ,
    ROLE_RESTORE_READWRITE,
    Directory,
)
from graph_emulator.sessions import MAX_ACTIVE_SESSIONS, Session, SessionStore

BASE = "/v1.0/solutions/backupRestore"
MAX_ARTIFACTS_PER_REQUEST = 50
DEFAULT_PAGE_SIZE = 100
DESTINATION_TYPES = frozenset({"new", "inPlace"})
SESSION_ODATA_TYPE = "#microsoft.graph.oneDriveForBusinessRestoreSession"
RESTORE_POINT_ID = re.compile(r"^[A-Za-z0-9._=-]{1,256}$")
PREFER_LATE_MEMBERS = "include-unknown-enum-members"

Handler = Callable[[Request], Awaitable[Response]]


class GraphFailure(Exception):
    """A documented Graph error: becomes `{"error": {...}}` with its status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(
    status: int,
    code: str,
    message: str,
    scope: MutableMapping[str, Any],
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Graph's error body, with innerError carrying the request ids."""
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": scope.get("graph_request_id", ""),
                "client-request-id": scope.get("graph_client_request_id", ""),
            },
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


class GraphApi:
    """Routes of the backup API over one tenant's directory and sessions."""

    def __init__(self, directory: Directory, store: SessionStore, counters: Counters) -> None:
        self.directory = directory
        self.store = store
        self.counters = counters

    def routes(self) -> list[Route]:
        sessions = f"{BASE}/oneDriveForBusinessRestoreSessions"
        return [
            Route(sessions, self._guard(self.create, ROLE_RESTORE_READWRITE), methods=["POST"]),
            Route(sessions, self._guard(self.list_sessions, ROLE_RESTORE_READ), methods=["GET"]),
            Route(f"{sessions}/{{id}}", self._guard(self.get, ROLE_RESTORE_READ), methods=["GET"]),
            Route(
                f"{BASE}/restoreSessions/{{id}}",
                self._guard(self.get, ROLE_RESTORE_READ),
                methods=["GET"],
            ),
            Route(
                f"{sessions}/{{id}}",
                self._guard(self.update, ROLE_RESTORE_READWRITE),
                methods=["PATCH"],
            ),
            Route(
                f"{BASE}/restoreSessions/{{id}}",
                self._guard(self.delete, ROLE_RESTORE_READWRITE),
                methods=["DELETE"],
            ),
            Route(
                f"{BASE}/restoreSessions/{{id}}/activate",
                self._guard(self.activate, ROLE_RESTORE_READWRITE),
                methods=["POST"],
            ),
            Route(
                f"{sessions}/{{id}}/driveRestoreArtifacts",
                self._guard(self.list_artifacts, ROLE_RESTORE_READ),
                methods=["GET"],
            ),
        ]

    def _guard(self, handler: Handler, role: str) -> Handler:
        """Check the bearer token (401) and the app role (403), then map GraphFailure."""

        async def guarded(request: Request) -> Response:
            try:
                claims = self._authenticate(request)
                roles = set(claims.get("roles", []))
                # ReadWrite includes Read, as in Graph.
                if role not in roles and not (
                    role == ROLE_RESTORE_READ and ROLE_RESTORE_READWRITE in roles
                ):
                    raise GraphFailure(
                        403,
                        "Authorization_RequestDenied",
                        "Insufficient privileges to complete the operation.",
                    )
                request.scope["graph_app_id"] = claims.get("appid", "")
                return await handler(request)
            except GraphFailure as failure:
                return error_response(failure.status, failure.code, failure.message, request.scope)

        return guarded

    def _authenticate(self, request: Request) -> dict[str, Any]:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise GraphFailure(401, "InvalidAuthenticationToken", "Access token is empty.")
        try:
            return self.directory.verify_token(token, GRAPH_RESOURCE)
        except jwt.ExpiredSignatureError as exc:
            raise GraphFailure(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            ) from exc
        except jwt.PyJWTError as exc:
            raise GraphFailure(
                401, "InvalidAuthenticationToken", "Access token validation failure."
            ) from exc

    def _session(self, request: Request) -> Session:
        session_id = request.path_params["id"]
        if not RESTORE_POINT_ID.match(session_id):
            raise GraphFailure(400, "InvalidRestoreSessionId", "The restore session id is invalid.")
        session = self.store.get(session_id)
        if session is None:
            raise GraphFailure(404, "RestoreSessionNotFound", "Restore session not found.")
        return session

    @staticmethod
    def _late_members(request: Request) -> bool:
        return PREFER_LATE_MEMBERS in request.headers.get("prefer", "")

    async def create(self, request: Request) -> Response:
        body = await _json_body(request)
        if body.get("@odata.type", SESSION_ODATA_TYPE) != SESSION_ODATA_TYPE:
            raise GraphFailure(400, "BadRequest", "Unexpected @odata.type for this entity set.")
        artifacts: list[tuple[str, str]] = []
        if "driveRestoreArtifacts" in body:
            artifacts = _parse_new_artifacts(body["driveRestoreArtifacts"])
            if not artifacts:
                raise GraphFailure(400, "InvalidArtifactRequest", "The artifact list is empty.")
            if len(artifacts) > MAX_ARTIFACTS_PER_REQUEST:
                raise GraphFailure(
                    413,
                    "RestoreArtifactsLimitBreached",
                    f"At most {MAX_ARTIFACTS_PER_REQUEST} artifacts can be added in one request.",
                )
        session = self.store.create(request.scope["graph_app_id"], artifacts)
        self.counters.sessions_created += 1
        return JSONResponse(session.to_graph(self._late_members(request)), status_code=201)

    async def get(self, request: Request) -> Response:
        session = self._session(request)
        return JSONResponse(session.to_graph(self._late_members(request)))

    async def list_sessions(self, request: Request) -> Response:
        top = _int_param(request, "$top", DEFAULT_PAGE_SIZE)
        skip = _int_param(request, "$skiptoken", 0)
        late = self._late_members(request)
        sessions = list(self.store.sessions.values())
        page = [s.id for s in sessions[skip : skip + top]]
        body: dict[str, Any] = {
            "@odata.context": "/solutions/backupRestore/$metadata"
            "#oneDriveForBusinessRestoreSessions",
            "value": [self.store.get(session_id).to_graph(late) for session_id in page],  # type: ignore[union-attr]
        }
        if skip + top < len(sessions):
            body["@odata.nextLink"] = str(
                request.url.include_query_params(**{"$top": top, "$skiptoken": skip + top})
            )
        return JSONResponse(body)

    async def update(self, request: Request) -> Response:
        session = self._session(request)
        body = await _json_body(request)
        delta = body.get("driveRestoreArtifacts@delta")
        if not isinstance(delta, list) or not delta:
            raise GraphFailure(
                400, "InvalidPatchRequest", "driveRestoreArtifacts@delta is required."
            )
        if len(delta) > MAX_ARTIFACTS_PER_REQUEST:
            raise GraphFailure(
                400,
                "RestoreArtifactsLimitBreached",
                f"At most {MAX_ARTIFACTS_PER_REQUEST} artifacts can be changed in one request.",
            )
        _require_draft(session)
        if session.job_type == "bulk":
            raise GraphFailure(
                403, "RestoreSessionActionNotAllowed", "A bulk restore session cannot be patched."
            )
        removals = [item for item in delta if isinstance(item, dict) and "@removed" in item]
        additions = _parse_new_artifacts([item for item in delta if item not in removals])
        existing_points = {a.restore_point_id for a in session.artifacts.values()}
        destinations = {a.destination_type for a in session.artifacts.values()}
        destinations.update(dest for _, dest in additions)
        if len(destinations) > 1:
            raise GraphFailure(
                400,
                "DifferentRestoreDestinationType",
                "All artifacts of a session must have the same destination type.",
            )
        answer: list[dict[str, Any]] = []
        for item in removals:
            artifact = session.artifacts.pop(str(item.get("id", "")), None)
            if artifact is None:
                answer.append(_failed_delta_item(item, "ArtifactNotFound", "No such artifact."))
            else:
                answer.append({"@removed": {"reason": "deleted"}, "id": artifact.id})
        fresh = [(rp, dest) for rp, dest in additions if rp not in existing_points]
        for rp, dest in additions:
            if rp in existing_points:
                answer.append(
                    _failed_delta_item(
                        {"restorePoint": {"id": rp}, "destinationType": dest},
                        "DuplicateArtifactInList",
                        "The restore point is already in the session.",
                    )
                )
        for artifact in self.store.add_artifacts(session, fresh):
            answer.append(artifact.to_graph())
        return JSONResponse(
            {
                "@odata.context": "/solutions/backupRestore/$metadata"
                "#oneDriveForBusinessRestoreSessions/$delta",
                "driveRestoreArtifacts@delta": answer,
            }
        )

    async def delete(self, request: Request) -> Response:
        session = self._session(request)
        _require_draft(session)
        del self.store.sessions[session.id]
        return Response(status_code=204)

    async def activate(self, request: Request) -> Response:
        session = self._session(request)
        _require_draft(session)
        if self.store.active_count() >= MAX_ACTIVE_SESSIONS:
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
        return JSONResponse(session.to_graph(self._late_members(request)))

    async def list_artifacts(self, request: Request) -> Response:
        session = self._session(request)
        top = _int_param(request, "$top", DEFAULT_PAGE_SIZE)
        skip = _int_param(request, "$skiptoken", 0)
        artifacts = list(session.artifacts.values())
        body: dict[str, Any] = {
            "@odata.context": "/solutions/backupRestore/$metadata#driveRestoreArtifacts",
            "value": [a.to_graph() for a in artifacts[skip : skip + top]],
        }
        if skip + top < len(artifacts):
            body["@odata.nextLink"] = str(
                request.url.include_query_params(**{"$top": top, "$skiptoken": skip + top})
            )
        return JSONResponse(body)


def _require_draft(session: Session) -> None:
    if session.status != "draft":
        raise GraphFailure(
            403,
            "RestoreSessionActionNotAllowed",
            f"The action is not allowed on a session in status '{session.status}'.",
        )


def _failed_delta_item(item: dict[str, Any], code: str, message: str) -> dict[str, Any]:
    return {
        **item,
        "@Core.DataModificationException": {
            "info": {"code": code, "message": message},
            "failedOperation": "add" if "@removed" not in item else "remove",
            "responseCode": 400,
        },
    }


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise GraphFailure(400, "BadRequest", "Unable to read JSON request payload.") from exc
    if not isinstance(body, dict):
        raise GraphFailure(400, "BadRequest", "The request payload must be a JSON object.")
    return body


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or (name == "$top" and int(raw) == 0):
        raise GraphFailure(400, "BadRequest", f"Invalid value '{raw}' for query option {name}.")
    return int(raw)


def _restore_point_id(artifact: dict[str, Any]) -> str:
    """Accept `{"id": ...}` and the older `{"@odata.id": ".../restorePoints/ID"}` forms."""
    point = artifact.get("restorePoint")
    if not isinstance(point, dict):
        return ""
    raw = point.get("id") or point.get("@odata.id") or ""
    if not isinstance(raw, str):
        return ""
    return raw.rsplit("/", 1)[-1].removeprefix("restorePoints('").removesuffix("')")


def _parse_new_artifacts(items: Any) -> list[tuple[str, str]]:
    """Validate added artifacts as Graph does; return (restore point id, destination) pairs."""
    if not isinstance(items, list):
        raise GraphFailure(400, "InvalidArtifactRequest", "driveRestoreArtifacts must be a list.")
    artifacts: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            raise GraphFailure(400, "InvalidArtifactRequest", "An artifact must be an object.")
        restore_point_id = _restore_point_id(item)
        if not RESTORE_POINT_ID.match(restore_point_id):
            raise GraphFailure(
                400, "InvalidRestorePoint", "The restore point id is invalid or empty."
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
