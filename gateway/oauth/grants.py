"""authlib grant and endpoints, filling in only their hooks.

- :class:`ClientCredentialsGrant`: RFC 6749 section 4.4, with the scope rule of API.md
  section 2 and the token made by :class:`~gateway.oauth.tokens.TokenService`;
- :class:`TokenIntrospection`: RFC 7662, a client sees only its own tokens;
- :class:`TokenRevocation`: RFC 7009, a client revokes only its own tokens; a foreign or
  unknown token is a 200 no-op (section 2.2), so the answer never tells whether it exists.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidScopeError, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from .. import metrics
from .clientauth import METHODS, TLS_CLIENT_AUTH
from .clients import ClientRecord
from .errors import Refused
from .store import TokenView


def granted_scopes(requested: str | None, client: ClientRecord) -> tuple[str, ...]:
    """Omitted: every registered scope. Otherwise each requested scope must be registered."""
    if requested is None:
        return client.scopes
    wanted = set(requested.split())
    if not wanted or not wanted <= set(client.scopes):
        raise InvalidScopeError()
    return tuple(scope for scope in client.scopes if scope in wanted)


def lookup_token(server, token_string: str) -> TokenView | None:
    """The stored token behind a token string this gateway signed, or None."""
    try:
        claims = server.tokens.read(token_string)
    except Refused:
        return None
    jti = claims.get("jti")
    view = server.store.token(jti) if isinstance(jti, str) else None
    if view is None or view.client_id != claims.get("client_id"):
        return None
    return view


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(METHODS)

    def validate_requested_scope(self) -> None:
        self.request.granted_scopes = granted_scopes(self.request.payload.scope, self.client)

    def create_token_response(self):
        method = self.request.auth_method
        bound = self.request.bound_x5t if method == TLS_CLIENT_AUTH else None
        issued = self.server.tokens.issue(self.client, self.request.granted_scopes, method, bound)
        metrics.TOKENS_ISSUED.labels(method).inc()
        return 200, issued.response(), self.TOKEN_RESPONSE_HEADER


class TokenIntrospection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = list(METHODS)

    def query_token(self, token_string, token_type_hint):
        return lookup_token(self.server, token_string)

    def check_permission(self, token: TokenView, client: ClientRecord, request) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: TokenView) -> dict:
        """RFC 7662 section 2.2, plus the gateway's own claims ``org`` and ``org_type``."""
        issuer = self.server.tokens.issuer
        scopes = [s for s in token.scope.split() if s in token.client_scopes]
        body = {
            "active": True,
            "scope": " ".join(scopes),
            "client_id": token.client_id,
            "sub": token.client_id,
            "token_type": "Bearer",
            "iss": issuer,
            "aud": issuer,
            "iat": token.issued_at,
            "exp": token.expires_at,
            "jti": token.jti,
            "org": token.org_oin,
            "org_type": token.org_type,
        }
        if token.x5t_s256:
            body["cnf"] = {"x5t#S256": token.x5t_s256}
        return body


class TokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = list(METHODS)

    def authenticate_token(self, request, client: ClientRecord) -> TokenView | None:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        return token if token is not None and token.check_client(client) else None

    def query_token(self, token_string, token_type_hint):
        return lookup_token(self.server, token_string)

    def revoke_token(self, token: TokenView, request) -> None:
        self.server.store.revoke(token.jti, token.client_id)
