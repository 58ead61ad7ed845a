"""`/_emulator/` control API: apps, clock, faults, counters (what tests script and read)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from graph_emulator.entra import DEFAULT_ROLES, TOKEN_LIFETIME_S, FederatedCredential
from graph_emulator.faults import FaultRule

if TYPE_CHECKING:
    from graph_emulator.app import Emulator


def routes(emulator: Emulator) -> list[Route]:
    directory, store = emulator.directory, emulator.sessions
    faults, counters = emulator.faults, emulator.counters

    async def body_of(request: Request) -> dict[str, Any]:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        return body

    async def get_counters(request: Request) -> JSONResponse:
        return JSONResponse(counters.snapshot())

    async def list_sessions(request: Request) -> JSONResponse:
        """Every session with its restore points, to check that nothing was duplicated."""
        return JSONResponse(
            {
                "sessions": [
                    {
                        "id": s.id,
                        "status": s.status,
                        "kind": s.kind,
                        # The app whose token made it (Graph itself names its own app).
                        "app_id": s.app_id,
                        "restore_point_ids": [a.restore_point_id for a in s.artifacts.values()],
                        # Granular artifacts' ids are item keys.
                        "artifact_ids": list(s.artifacts),
                    }
                    for s in store.sessions.values()
                ]
            }
        )

    async def list_browse_sessions(request: Request) -> JSONResponse:
        """Every live browse session, to check that none was made twice."""
        now = store.clock.now()
        return JSONResponse(
            {
                "browse_sessions": [
                    {
                        "id": s.id,
                        "kind": s.kind.type_name,
                        "status": s.status(now),
                        "app_id": s.app_id,
                        "restore_point_id": s.point.id,
                    }
                    for s in emulator.browse.listed(None)
                ]
            }
        )

    async def get_journal(request: Request) -> JSONResponse:
        return JSONResponse({"requests": list(emulator.journal)})

    async def add_fault(request: Request) -> JSONResponse:
        try:
            rule = FaultRule.from_json(await body_of(request))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        faults.add(rule)
        return JSONResponse({"pending": len(faults.rules)}, status_code=201)

    async def clear_faults(request: Request) -> JSONResponse:
        faults.clear()
        return JSONResponse({"pending": 0})

    async def advance_clock(request: Request) -> JSONResponse:
        body = await body_of(request)
        store.clock.advance(float(body.get("seconds", 0)))
        return JSONResponse({"now": store.clock.now().isoformat()})

    async def register_app(request: Request) -> JSONResponse:
        """An app with any of: a secret, a certificate, a federated identity credential
        (`federated_issuer`, one the emulator trusts, and `federated_subject`), or being a
        user-assigned managed identity (`managed_identity`)."""
        body = await body_of(request)
        pem = body.get("certificate_pem")
        issuer, subject = body.get("federated_issuer"), body.get("federated_subject")
        try:
            app = directory.register(
                client_id=body.get("client_id"),
                secret=body.get("secret"),
                certificate_pem=pem.encode() if pem else None,
                roles=tuple(body.get("roles", DEFAULT_ROLES)),
                federated_credential=FederatedCredential(str(issuer), str(subject))
                if issuer or subject
                else None,
                token_lifetime_s=int(body.get("token_lifetime_s", TOKEN_LIFETIME_S)),
                managed_identity=bool(body.get("managed_identity", False)),
            )
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"client_id": app.client_id, "roles": list(app.roles)}, status_code=201)

    async def issue_token(request: Request) -> JSONResponse:
        """A token for any audience, e.g. the gateway's own, for caller-auth tests."""
        body = await body_of(request)
        app = directory.apps.get(str(body.get("client_id")))
        if app is None:
            return JSONResponse({"error": "unknown client_id"}, status_code=404)
        token = directory.issue_token(
            app,
            str(body.get("audience")),
            time.time(),
            lifetime_s=int(body.get("lifetime_s", TOKEN_LIFETIME_S)),
            subject=body.get("subject"),
        )
        return JSONResponse({"access_token": token})

    async def get_realism(request: Request) -> JSONResponse:
        """The realistic profile's settings (404 under the default profile)."""
        if emulator.realism is None:
            return JSONResponse({"error": "the default profile has no settings"}, 404)
        return JSONResponse(emulator.realism.to_json())

    async def change_realism(request: Request) -> JSONResponse:
        """Change some of the realistic profile's settings, e.g. {"throttle_requests": 50}."""
        if emulator.realism is None:
            return JSONResponse({"error": "the default profile has no settings"}, 404)
        try:
            emulator.realism.update(await body_of(request))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(emulator.realism.to_json())

    async def failing_restore_points(request: Request) -> JSONResponse:
        body = await body_of(request)
        store.failing_restore_points.update(str(i) for i in body.get("ids", []))
        return JSONResponse({"failing": sorted(store.failing_restore_points)})

    return [
        Route("/_emulator/counters", get_counters),
        Route("/_emulator/journal", get_journal),
        Route("/_emulator/sessions", list_sessions),
        Route("/_emulator/browse-sessions", list_browse_sessions),
        Route("/_emulator/faults", add_fault, methods=["POST"]),
        Route("/_emulator/faults", clear_faults, methods=["DELETE"]),
        Route("/_emulator/clock", advance_clock, methods=["POST"]),
        Route("/_emulator/apps", register_app, methods=["POST"]),
        Route("/_emulator/tokens", issue_token, methods=["POST"]),
        Route("/_emulator/failing-restore-points", failing_restore_points, methods=["POST"]),
        Route("/_emulator/realism", get_realism),
        Route("/_emulator/realism", change_realism, methods=["PATCH"]),
    ]
