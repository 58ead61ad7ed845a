"""The msal client of the gateway's configured credential, as a TokenSource."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
import msal

from graphrestore_gateway.config import (
    ClientCertificate,
    ClientSecret,
    FederatedToken,
    ManagedIdentity,
    Settings,
)
from graphrestore_gateway.graph.auth import GRAPH_RESOURCE, GRAPH_SCOPE, TokenSource
from graphrestore_gateway.graph.errors import ENTRA_UNREACHABLE, GraphError

TOKEN_HTTP_TIMEOUT_S = 15.0
FEDERATED_TOKEN_UNREADABLE = "federatedTokenUnreadable"


class MsalHttpClient(httpx.Client):
    """httpx for msal, so our TLS trust applies (msal's requests session would let
    REQUESTS_CA_BUNDLE override it). msal passes the client assertion as bytes, which
    requests form-encodes as text but httpx would send as its repr: decode it first."""

    def post(self, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        data = kwargs.get("data")
        if isinstance(data, dict):
            kwargs["data"] = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return super().post(url, **kwargs)


class AppRegistration:
    """The gateway's own app registration (secret, certificate or federated token)."""

    def __init__(self, app: msal.ConfidentialClientApplication) -> None:
        self._app = app

    def acquire(self, fresh: bool) -> dict[str, Any]:
        if fresh:
            self._app.remove_tokens_for_client()
        result: dict[str, Any] = self._app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
        return result


class PlatformIdentity:
    """A managed identity, through the platform's endpoint that msal finds."""

    def __init__(self, identity: Any, http_client: httpx.Client) -> None:
        self._identity = identity
        self._http_client = http_client
        self._client = self._new_client()

    def _new_client(self) -> msal.ManagedIdentityClient:
        return msal.ManagedIdentityClient(self._identity, http_client=self._http_client)

    def acquire(self, fresh: bool) -> dict[str, Any]:
        if fresh:
            # A new client starts with an empty cache (this one has no removal call).
            self._client = self._new_client()
        try:
            result: dict[str, Any] = self._client.acquire_token_for_client(resource=GRAPH_RESOURCE)
        except json.JSONDecodeError:
            raise GraphError(
                ENTRA_UNREACHABLE,
                "the managed identity endpoint answered something other than JSON",
                source="entra",
            ) from None
        return result


def msal_credential(credential: ClientSecret | ClientCertificate | FederatedToken) -> object:
    """msal's client_credential for a credential of the gateway's app registration."""
    if isinstance(credential, FederatedToken):
        token_file = credential.token_file

        def assertion() -> str:
            """Read fresh for every token request: the platform rotates the file."""
            try:
                return token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise GraphError(
                    FEDERATED_TOKEN_UNREADABLE,
                    f"the federated token file cannot be read: {exc.strerror}",
                    source="entra",
                ) from None

        return {"client_assertion": assertion}
    if isinstance(credential, ClientCertificate):
        if credential.send_x5c:
            # msal then signs PS256 with x5t#S256 and sends the chain as x5c.
            return {
                "private_key": credential.private_key_pem.reveal(),
                "public_certificate": credential.certificate_pem,
            }
        return {
            "private_key": credential.private_key_pem.reveal(),
            "thumbprint": credential.sha1_thumbprint,
        }
    return credential.value.reveal()


def token_source(settings: Settings, trust: ssl.SSLContext) -> TokenSource:
    """Build the msal client of the configured credential (it may reach Entra ID)."""
    http_client = MsalHttpClient(verify=trust, timeout=TOKEN_HTTP_TIMEOUT_S)
    credential = settings.credential
    if isinstance(credential, ManagedIdentity):
        identity = (
            msal.UserAssignedManagedIdentity(client_id=settings.client_id)
            if settings.client_id
            else msal.SystemAssignedManagedIdentity()
        )
        return PlatformIdentity(identity, http_client)
    return AppRegistration(
        msal.ConfidentialClientApplication(
            settings.client_id,
            client_credential=msal_credential(credential),
            authority=settings.authority,
            http_client=http_client,
            instance_discovery=False,
        )
    )
