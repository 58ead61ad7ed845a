"""Entra ID stand-in: app registrations, client-credentials tokens, discovery and JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from graph_emulator.counters import Counters

GRAPH_RESOURCE = "https://graph.microsoft.com"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
TOKEN_LIFETIME_S = 3600
ROLE_RESTORE_READWRITE = "BackupRestore-Restore.ReadWrite.All"
ROLE_RESTORE_READ = "BackupRestore-Restore.Read.All"
ROLE_SEARCH_READ = "BackupRestore-Search.Read.All"
DEFAULT_ROLES = (ROLE_RESTORE_READWRITE, ROLE_SEARCH_READ)


@dataclass(frozen=True)
class FederatedCredential:
    """Entra's federated identity credential of an app (its audience is always
    api://AzureADTokenExchange, as Microsoft recommends)."""

    issuer: str
    subject: str


@dataclass
class App:
    """A registered application (service principal) with its credentials and app roles."""

    client_id: str
    roles: tuple[str, ...]
    secret: str | None = None
    # Workload identity federation: a federated identity credential, the issuer (one the
    # directory trusts) and subject of the assertions this app may present.
    federated_credential: FederatedCredential | None = None
    # A managed identity (user-assigned, or the system-assigned one) the platform's
    # endpoint issues tokens for.
    managed_identity: bool = False
    token_lifetime_s: int = TOKEN_LIFETIME_S
    # x5t (SHA-1) and x5t#S256 thumbprints, base64url, -> the certificate.
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)

    def add_certificate(self, pem: bytes) -> None:
        cert = x509.load_pem_x509_certificate(pem)
        der = cert.public_bytes(Encoding.DER)
        for digest in (hashlib.sha1, hashlib.sha256):
            thumbprint = base64.urlsafe_b64encode(digest(der).digest()).rstrip(b"=").decode()
            self.certificates[thumbprint] = cert


class EntraError(Exception):
    """An AADSTS-style token endpoint error."""

    def __init__(self, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description


class Directory:
    """One tenant: its apps and the key its tokens are signed with."""

    def __init__(self, tenant_id: str, counters: Counters) -> None:
        self.tenant_id = tenant_id
        self.apps: dict[str, App] = {}
        self.counters = counters
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self.signing_key.public_key()
        self.key_id = uuid.uuid4().hex
        self.issuer = f"https://sts.windows.net/{tenant_id}/"
        # External identity providers (e.g. a Kubernetes service account issuer): their
        # keys, as Entra would fetch them from the issuer's OIDC metadata.
        self.trusted_issuers: dict[str, jwt.PyJWKSet] = {}
        # The platform's own identity (App Service style), made by the emulator at start.
        self.system_identity: App | None = None

    def register(
        self,
        client_id: str | None = None,
        secret: str | None = None,
        certificate_pem: bytes | None = None,
        roles: tuple[str, ...] = DEFAULT_ROLES,
        federated_credential: FederatedCredential | None = None,
        token_lifetime_s: int = TOKEN_LIFETIME_S,
        managed_identity: bool = False,
    ) -> App:
        if federated_credential and federated_credential.issuer not in self.trusted_issuers:
            # Entra cannot fetch the keys of an issuer it does not know.
            raise ValueError(f"issuer {federated_credential.issuer!r} is not trusted")
        app = App(
            client_id=client_id or str(uuid.uuid4()),
            roles=roles,
            secret=secret,
            federated_credential=federated_credential,
            token_lifetime_s=token_lifetime_s,
            managed_identity=managed_identity,
        )
        if certificate_pem:
            app.add_certificate(certificate_pem)
        self.apps[app.client_id] = app
        return app

    def issue_token(
        self,
        app: App,
        resource: str,
        now: float,
        lifetime_s: int = TOKEN_LIFETIME_S,
        subject: str | None = None,
    ) -> str:
        claims = {
            "aud": resource,
            "iss": self.issuer,
            "tid": self.tenant_id,
            "appid": app.client_id,
            "azp": app.client_id,
            "sub": subject or app.client_id,
            "roles": list(app.roles),
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now) + lifetime_s,
            "jti": uuid.uuid4().hex,
        }
        self.counters.tokens_issued += 1
        return jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": self.key_id})

    def verify_token(self, token: str, audience: str) -> dict[str, Any]:
        """Decode an access token this directory issued; raises jwt.PyJWTError when invalid."""
        claims: dict[str, Any] = jwt.decode(
            token, self.public_key, algorithms=["RS256"], audience=audience, issuer=self.issuer
        )
        return claims

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        jwk.update({"kid": self.key_id, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def authenticate(self, form: dict[str, str], token_endpoint: str) -> App:
        """Check a client-credentials request and return the app it proves to be."""
        client_id = form.get("client_id", "")
        app = self.apps.get(client_id)
        if app is None:
            raise EntraError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        if "client_assertion" in form:
            self._check_assertion(app, form, token_endpoint)
        elif "client_secret" in form:
            if app.secret is None or not hmac.compare_digest(app.secret, form["client_secret"]):
                raise EntraError(401, "invalid_client", 7000215, "Invalid client secret provided.")
        else:
            raise EntraError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain 'client_assertion' or 'client_secret'.",
            )
        return app

    def _check_assertion(self, app: App, form: dict[str, str], token_endpoint: str) -> None:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise EntraError(400, "invalid_request", 50027, "Invalid client_assertion_type.")
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise EntraError(
                400, "invalid_request", 50027, "JWT token is invalid or malformed."
            ) from None
        # A certificate assertion is issued by the app itself; any other is federated.
        if issuer != app.client_id:
            self._check_federated(app, assertion, str(issuer), header)
            return
        try:
            if "x5c" in header:
                self.counters.assertions_with_x5c += 1
            thumbprint = str(header.get("x5t#S256") or header.get("x5t") or "").rstrip("=")
            cert = app.certificates.get(thumbprint)
            if cert is None:
                raise EntraError(
                    401,
                    "invalid_client",
                    700027,
                    "Client assertion failed signature validation: key was not found.",
                )
            claims = jwt.decode(
                assertion,
                cert.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=token_endpoint,
                options={"require": ["exp", "iss", "sub", "aud", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise EntraError(
                401, "invalid_client", 700027, f"Client assertion is not valid: {exc}."
            ) from exc
        if claims["iss"] != app.client_id or claims["sub"] != app.client_id:
            raise EntraError(
                401, "invalid_client", 700023, "Client assertion iss and sub must be the client id."
            )

    def _check_federated(
        self, app: App, assertion: str, issuer: str, header: dict[str, Any]
    ) -> None:
        """A federated credential: signed by a key of a trusted issuer the app has a
        federated identity credential for, for the exchange audience, unexpired, with
        that credential's subject. Errors as Entra words them (AADSTS7002xx)."""
        credential = app.federated_credential
        if credential is None or credential.issuer != issuer:
            raise EntraError(
                401,
                "invalid_client",
                700211,
                f"No matching federated identity record found for presented assertion "
                f"issuer '{issuer}'. Please check your federated identity credential "
                "Subject, Audience and Issuer against the presented assertion.",
            )
        kid = str(header.get("kid", ""))
        keys = {key.key_id: key for key in self.trusted_issuers[issuer].keys}
        if kid not in keys:
            raise EntraError(
                401,
                "invalid_client",
                7000272,
                f"The certificate with identifier {kid} used to sign the federated credential "
                f"could not be found in the metadata of identity provider {issuer}. Please "
                "validate that your Identity Provider's metadata exposes the key used to "
                "sign the incoming token.",
            )
        try:
            claims = jwt.decode(
                assertion,
                keys[kid].key,
                algorithms=["RS256", "ES256", "PS256"],
                options={"verify_aud": False, "require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.InvalidSignatureError:
            raise EntraError(
                401, "invalid_client", 700027, "Client assertion contains an invalid signature."
            ) from None
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            raise EntraError(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            ) from None
        except jwt.PyJWTError:
            raise EntraError(
                400, "invalid_request", 50027, "JWT token is invalid or malformed."
            ) from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if FEDERATION_AUDIENCE not in audiences:
            raise EntraError(
                401,
                "invalid_client",
                700212,
                f"No matching federated identity record found for presented assertion "
                f"audience '{claims['aud']}'.",
            )
        if claims["sub"] != credential.subject:
            raise EntraError(
                401,
                "invalid_client",
                700213,
                f"No matching federated identity record found for presented assertion "
                f"subject '{claims['sub']}'. Check your federated identity credential "
                "Subject, Audience and Issuer against the presented assertion.",
            )


def resource_for_scope(scope: str) -> str:
    """`https://graph.microsoft.com/.default` -> `https://graph.microsoft.com`."""
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise EntraError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must "
            "have a scope value with /.default suffixed to the resource identifier.",
        )
    return scopes[0].removesuffix("/.default")


def _error_response(exc: EntraError) -> JSONResponse:
    trace_id = str(uuid.uuid4())
    return JSONResponse(
        {
            "error": exc.error,
            "error_description": f"AADSTS{exc.aadsts}: {exc.description} Trace ID: {trace_id}",
            "error_codes": [exc.aadsts],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": trace_id,
            "correlation_id": str(uuid.uuid4()),
        },
        status_code=exc.status,
    )


def routes(directory: Directory, allowed_resources: tuple[str, ...]) -> list[Route]:
    """Discovery, token and JWKS endpoints under /{tenant}/."""

    def base_url(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def check_tenant(request: Request) -> None:
        tenant = request.path_params["tenant"]
        if tenant != directory.tenant_id:
            raise EntraError(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")

    async def discovery(request: Request) -> JSONResponse:
        try:
            check_tenant(request)
        except EntraError as exc:
            return _error_response(exc)
        base = f"{base_url(request)}/{directory.tenant_id}"
        return JSONResponse(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                ],
                "response_types_supported": ["code", "id_token", "token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "EU",
            }
        )

    async def token(request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        try:
            check_tenant(request)
            if form.get("grant_type") != "client_credentials":
                raise EntraError(
                    400, "unsupported_grant_type", 70003, "The grant type is not supported."
                )
            resource = resource_for_scope(form.get("scope", ""))
            if resource not in allowed_resources:
                raise EntraError(
                    400,
                    "invalid_resource",
                    500011,
                    f"The resource principal named {resource} was not found in the tenant.",
                )
            app = directory.authenticate(form, f"{base_url(request)}{request.url.path}")
        except EntraError as exc:
            return _error_response(exc)
        lifetime_s = app.token_lifetime_s
        access_token = directory.issue_token(app, resource, time.time(), lifetime_s)
        return JSONResponse(
            {
                "token_type": "Bearer",
                "expires_in": lifetime_s,
                "ext_expires_in": lifetime_s,
                "access_token": access_token,
            }
        )

    async def keys(request: Request) -> JSONResponse:
        return JSONResponse(directory.jwks())

    return [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", discovery),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        Route("/{tenant}/discovery/v2.0/keys", keys),
    ]


def new_secret() -> str:
    return secrets.token_urlsafe(32)
