"""The authorization server: authlib's Flask ``AuthorizationServer`` with the gateway's hooks.

Errors are answered in one place (:meth:`GatewayAuthorizationServer.handle_error_response`):
RFC 6749 section 5.2 JSON, 401 with ``WWW-Authenticate`` for ``invalid_client`` and 400
otherwise, ``Cache-Control: no-store``, one fixed description per error code so that nothing
tells a prober which check failed, and a count in ``gateway_auth_failures_total``. Only a
request that proved which client it was gets an ``auth.failure`` audit event
(:mod:`.failures`, API.md section 13 rule 4).
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from flask import Flask, g
from flask import request as flask_request

from ..audit.log import AuditLog
from ..config import Settings
from .assertions import AssertionVerifier
from .clientauth import (
    ClientRefused,
    DevelopmentSecretBasic,
    PrivateKeyJwt,
    TlsClientAuth,
    attempted_method,
)
from .failures import count_failure, record_failure
from .grants import ClientCredentialsGrant, TokenIntrospection, TokenRevocation
from .requests import GatewayRequest
from .store import OAuthStore
from .tokens import TokenService

DESCRIPTIONS = {
    "invalid_client": "Client authentication failed.",
    "invalid_request": (
        "The request is malformed: send a form-encoded POST with each parameter at most once."
    ),
    "invalid_scope": "The requested scope is invalid or not registered for this client.",
    "unsupported_grant_type": "Only grant_type=client_credentials is supported.",
    "unauthorized_client": "This client may not use this grant type.",
    "invalid_grant": "The grant is invalid.",
    "unsupported_token_type": "This token type is not supported.",
}
REALM = 'Basic realm="Thuiszitterspact gateway"'
NO_STORE = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]
ENDPOINTS = {"introspect": "introspection", "revoke": "revocation"}


class GatewayAuthorizationServer(AuthorizationServer):
    """Client credentials only, with private_key_jwt, tls_client_auth and (dev) secrets."""

    def __init__(
        self,
        app: Flask,
        settings: Settings,
        store: OAuthStore,
        tokens: TokenService,
        verifier: AssertionVerifier,
        audit: AuditLog,
    ) -> None:
        super().__init__(app, query_client=store.client, save_token=_tokens_are_recorded)
        self.settings = settings
        self.store = store
        self.tokens = tokens
        self.audit = audit
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(TokenIntrospection)
        self.register_endpoint(TokenRevocation)
        for method in (
            PrivateKeyJwt(verifier, store),
            TlsClientAuth(),
            DevelopmentSecretBasic(production=settings.is_production),
        ):
            self.register_client_auth_method(method.name, method)

    def create_oauth2_request(self, request) -> GatewayRequest:
        if isinstance(request, GatewayRequest):
            return request
        return GatewayRequest(flask_request, self.settings)

    def authenticate_client(self, request, methods, endpoint="token"):
        """authlib's client authentication, remembering the client the request proved to be."""
        client = super().authenticate_client(request, methods, endpoint)
        if isinstance(request, GatewayRequest):
            request.proven_client = client
        return client

    def respond(self, endpoint: str):
        """Answer ``POST /oauth/<endpoint>`` (token, introspect or revoke)."""
        g.oauth_endpoint = endpoint
        request = self.create_oauth2_request(None)
        if request.malformed(needs_grant_type=endpoint == "token"):
            return self.handle_error_response(request, InvalidRequestError())
        if endpoint == "token":
            return self.create_token_response(request)
        return self.create_endpoint_response(ENDPOINTS[endpoint], request)

    def handle_error_response(self, request, error: OAuth2Error):
        code = error.error if error.error in DESCRIPTIONS else "invalid_request"
        client = _proven_client(request, error)
        count_failure(g.get("oauth_endpoint", "token"), _method_label(request), code, client)
        if client is not None:
            record_failure(
                self.store.db,
                self.audit,
                client.org_oin,
                client.client_id,
                code,
                g.get("fsc_transaction_id"),
            )
        headers = list(NO_STORE)
        status = 400
        if code == "invalid_client":
            status = 401
            headers.append(("WWW-Authenticate", REALM))
        body = {"error": code, "error_description": DESCRIPTIONS[code]}
        return self.handle_response(status, body, headers)


def _proven_client(request, error: OAuth2Error):
    """The client a refused request proved to be, or None when it proved nothing.

    Authentication passed (authlib went on and a later check failed), or the method itself
    verified the credential and then found the organisation suspended.
    """
    if isinstance(error, ClientRefused) and error.client is not None:
        return error.client
    return getattr(request, "proven_client", None)


def _method_label(request) -> str:
    """The client authentication method for the failure metric (an enumeration)."""
    if not isinstance(request, GatewayRequest):
        return "none"
    try:
        return attempted_method(request)
    except InvalidRequestError:
        return "multiple"


def _tokens_are_recorded(token, request) -> None:
    """authlib's ``save_token`` hook: the token service records each token as it signs it."""
