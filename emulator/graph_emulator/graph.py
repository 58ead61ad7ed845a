"""What every emulated Graph route shares: Graph's error body, the bearer-token guard,
JSON bodies, query options, paging and a PATCH's refused delta item."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import jwt
from jsonschema import Draft202012Validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph_emulator import schema
from graph_emulator.entra import (
    GRAPH_RESOURCE,
    ROLE_RESTORE_READ,
    ROLE_RESTORE_READWRITE,
    Directory,
)

BASE = "/v1.0/solutions/backupRestore"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Graph's ids in this API: GUIDs and other forms; never slashes or spaces.
GRAPH_ID = re.compile(r"^[A-Za-z0-9._=-]{1,256}$")
PREFER_LATE_MEMBERS = "include-unknown-enum-members"

Handler = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")


class GraphFailure(Exception):
    """A documented Graph error: becomes `{"error": {...}}` with its status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class SchemaRefusal(GraphFailure):
    """A body that does not fit Graph's schema (400, as Graph refuses it)."""


def conform(body: Any, validator: Draft202012Validator) -> None:
    """Refuse `body` unless it fits Graph's schema for it."""
    found = schema.problems(validator, body)
    if found:
        raise SchemaRefusal(400, "BadRequest", f"Invalid request body: {'; '.join(found[:3])}")


def error_response(
    status: int,
    code: str,
    message: str,
    scope: MutableMapping[str, Any],
    headers: dict[str, str] | None = None,
    inner: dict[str, str] | None = None,
) -> JSONResponse:
    """Graph's error body, with innerError carrying the request ids (and `inner`)."""
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                **(inner or {}),
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": scope.get("graph_request_id", ""),
                "client-request-id": scope.get("graph_client_request_id", ""),
            },
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def guard(directory: Directory, role: str, handler: Handler) -> Handler:
    """Check the bearer token (401) and the app role (403), then map GraphFailure."""

    async def guarded(request: Request) -> Response:
        try:
            claims = _authenticate(directory, request)
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
            if isinstance(failure, SchemaRefusal):
                directory.counters.schema_refusals.append(
                    {
                        "route": f"{request.method} {request.url.path}",
                        "client_request_id": request.headers.get("client-request-id", ""),
                        "problems": failure.message,
                    }
                )
            return error_response(failure.status, failure.code, failure.message, request.scope)

    return guarded


def _authenticate(directory: Directory, request: Request) -> dict[str, Any]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise GraphFailure(401, "InvalidAuthenticationToken", "Access token is empty.")
    try:
        return directory.verify_token(token, GRAPH_RESOURCE)
    except jwt.ExpiredSignatureError as exc:
        raise GraphFailure(
            401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
        ) from exc
    except jwt.PyJWTError as exc:
        raise GraphFailure(
            401, "InvalidAuthenticationToken", "Access token validation failure."
        ) from exc


def late_members(request: Request) -> bool:
    """Whether the caller asked for enum members added after unknownFutureValue."""
    return PREFER_LATE_MEMBERS in request.headers.get("prefer", "")


async def json_body(request: Request) -> dict[str, Any]:
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


def int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or (maximum is not None and not 0 < int(raw) <= maximum):
        raise GraphFailure(400, "BadRequest", f"Invalid value '{raw}' for query option {name}.")
    return int(raw)


def page(
    request: Request, items: Sequence[T], render: Callable[[T], dict[str, Any]], context: str
) -> JSONResponse:
    """One page of a collection, `$top` long, with `@odata.nextLink` while more remain."""
    top = int_param(request, "$top", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    top = min(top, getattr(request.app.state, "page_size_limit", MAX_PAGE_SIZE))
    skip = int_param(request, "$skiptoken", 0)
    body: dict[str, Any] = {
        "@odata.context": f"/solutions/backupRestore/$metadata#{context}",
        "value": [render(item) for item in items[skip : skip + top]],
    }
    if skip + top < len(items):
        body["@odata.nextLink"] = str(
            request.url.include_query_params(**{"$top": top, "$skiptoken": skip + top})
        )
    return JSONResponse(body)


def failed_delta_item(
    item: dict[str, Any], operation: str, code: str, message: str
) -> dict[str, Any]:
    """A refused delta item, in the documented shape."""
    return {
        "@contentId": str(uuid.uuid4()),
        "@Core.DataModificationException": {
            "info": {"code": code, "message": message},
            "failedOperation": operation,
            "responseCode": 409,
        },
        **item,
    }


async def unknown_route(request: Request, exc: Exception) -> Response:
    """Graph answers a path it does not have, or a method a path does not take, with its
    error JSON (Starlette would answer in plain text)."""
    if getattr(exc, "status_code", 404) == 405:
        return error_response(
            405,
            "MethodNotAllowed",
            f"The {request.method} method is not supported on this resource.",
            request.scope,
        )
    segment = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    return error_response(
        400, "BadRequest", f"Resource not found for the segment '{segment}'.", request.scope
    )
