"""Who is calling: the anonymous loopback caller, an mTLS client certificate, or a bearer JWT."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, Protocol

import grpc
import jwt
from cryptography import x509
from cryptography.x509.oid import NameOID

from graphrestore_gateway.config import JwtCheck
from graphrestore_gateway.exceptions import Unauthenticated

ANONYMOUS = "anonymous"
# Tolerated clock difference between the token issuer and the gateway.
CLOCK_SKEW_S = 60


class Authenticator(Protocol):
    async def identify(self, context: grpc.aio.ServicerContext[Any, Any]) -> str: ...


class NoAuthentication:
    """GRAPHRESTORE_AUTH=none: everyone on loopback is the anonymous caller."""

    async def identify(self, context: grpc.aio.ServicerContext[Any, Any]) -> str:
        return ANONYMOUS


class ClientCertificate:
    """GRAPHRESTORE_AUTH=mtls: TLS already checked the chain. The caller is the
    certificate's one URI SAN (SPIFFE-style); with several it is refused (which would
    it be?); with none it is `cn:<CN>`, so a CN that looks like a URI never passes for
    one."""

    async def identify(self, context: grpc.aio.ServicerContext[Any, Any]) -> str:
        pems = list(context.auth_context().get("x509_pem_cert", []))
        if not pems:
            raise Unauthenticated("a client certificate is required")
        certificate = x509.load_pem_x509_certificate(pems[0])
        try:
            san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
        except x509.ExtensionNotFound:
            uris = []
        if len(uris) > 1:
            raise Unauthenticated("the client certificate names several URI SANs")
        if uris:
            return str(uris[0])
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if len(names) != 1:
            raise Unauthenticated("the client certificate names no URI SAN and not one CN")
        common_name = names[0].value
        if not isinstance(common_name, str):
            raise Unauthenticated("the client certificate's CN is not text")
        return f"cn:{common_name}"


class BearerToken:
    """GRAPHRESTORE_AUTH=jwt: `authorization: Bearer <JWT>` checked for signature (JWKS,
    cached, refetched for an unknown key id), issuer, audience, expiry and not-before."""

    def __init__(self, check: JwtCheck, trust: ssl.SSLContext) -> None:
        self._check = check
        self._keys = jwt.PyJWKClient(check.jwks_url, cache_keys=True, ssl_context=trust)

    async def identify(self, context: grpc.aio.ServicerContext[Any, Any]) -> str:
        header = dict(context.invocation_metadata() or ()).get("authorization", "")
        scheme, _, token = str(header).partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("a bearer token is required in the authorization metadata")
        try:
            # PyJWKClient fetches with urllib: keep that off the event loop.
            key = await asyncio.to_thread(self._keys.get_signing_key_from_jwt, token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "PS256", "ES256"],
                audience=self._check.audience,
                issuer=self._check.issuer,
                leeway=CLOCK_SKEW_S,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWKClientConnectionError:
            raise Unauthenticated("the token's signing keys cannot be fetched") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        caller = claims.get("azp") or claims.get("appid") or claims.get("sub")
        if not isinstance(caller, str) or not caller:
            raise Unauthenticated("the token names no azp, appid or sub")
        return caller
