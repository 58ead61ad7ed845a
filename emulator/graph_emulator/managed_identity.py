"""The platform's managed identity endpoint, App Service style: what IDENTITY_ENDPOINT
names, asked with the secret of IDENTITY_HEADER, answering a Graph token for the
system-assigned identity or a user-assigned one (`client_id`)."""

from __future__ import annotations

import hmac
import time
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from graph_emulator.entra import App, Directory

PATH = "/msi/token"
API_VERSION = "2019-08-01"


def _error(status: int, message: str) -> JSONResponse:
    """The endpoint's error body (msal reads `statusCode` and `message`)."""
    return JSONResponse(
        {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())},
        status_code=status,
    )


def routes(
    directory: Directory, identity_header: str, allowed_resources: tuple[str, ...]
) -> list[Route]:
    """GET /msi/token?resource=...&api-version=2019-08-01[&client_id=...]."""

    def identity_of(request: Request) -> App | None:
        client_id = request.query_params.get("client_id")
        if client_id is None:
            return directory.system_identity
        app = directory.apps.get(client_id)
        return app if app is not None and app.managed_identity else None

    async def token(request: Request) -> JSONResponse:
        # The header is what keeps a server-side request forgery from getting tokens.
        presented = request.headers.get("x-identity-header", "")
        if not hmac.compare_digest(presented.encode(), identity_header.encode()):
            return _error(401, "The X-IDENTITY-HEADER is missing or wrong.")
        query = request.query_params
        if query.get("api-version") != API_VERSION:
            return _error(400, f"api-version must be {API_VERSION}.")
        unsupported = {"mi_res_id", "object_id", "principal_id"} & set(query)
        if unsupported:
            return _error(400, f"{sorted(unsupported)[0]} is not supported by this emulator.")
        resource = query.get("resource", "").removesuffix("/")
        if resource not in allowed_resources:
            return _error(400, f"The resource '{query.get('resource', '')}' is not valid.")
        app = identity_of(request)
        if app is None:
            return _error(
                400, "No managed identity found for the specified client_id or this host."
            )
        now = time.time()
        access_token = directory.issue_token(app, resource, now, app.token_lifetime_s)
        return JSONResponse(
            {
                "access_token": access_token,
                "expires_on": str(int(now) + app.token_lifetime_s),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": app.client_id,
            }
        )

    return [Route(PATH, token)]
