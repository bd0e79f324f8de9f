"""The OAuth request authlib works on, built from the Flask request and the settings.

Differences from authlib's ``FlaskOAuth2Request``, each deliberate:

- parameters come from the form-encoded body only, never the query string: RFC 6749
  section 2.3.1 forbids credentials in the URL, and API.md section 2 says form bodies;
- the URI is the configured issuer's, not one built from the ``Host`` header, which a client
  controls;
- the request carries what client authentication needs besides the form: the audiences an
  assertion may name (RFC 7523 section 3: this endpoint or the issuer) and the client
  certificate, when a trusted proxy forwarded one.
"""

from __future__ import annotations

from collections import defaultdict

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from cryptography import x509
from flask import Request

from ..config import Settings
from .certificates import forwarded_certificate

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path
# authlib refuses plain-http URIs other than loopback when the request object is built.
# Transport security is enforced elsewhere: TLS ends at the terminator and production refuses
# to start without an https GATEWAY_BASE_URL (gateway.startup). So authlib is handed a
# placeholder and the real URI is set afterwards.
_PLACEHOLDER_URI = "https://localhost/"


class FormPayload(OAuth2Payload):
    def __init__(self, form) -> None:
        self._form = form

    @property
    def data(self):
        return self._form

    @property
    def datalist(self) -> defaultdict[str, list]:
        values: defaultdict[str, list] = defaultdict(list)
        for key in self._form:
            values[key].extend(self._form.getlist(key))
        return values


class GatewayRequest(OAuth2Request):
    """One token, introspection or revocation request."""

    def __init__(self, request: Request, settings: Settings) -> None:
        super().__init__(request.method, _PLACEHOLDER_URI, headers=request.headers)
        issuer = settings.issuer
        self.uri = issuer + request.path
        self._flask = request
        self.payload = FormPayload(request.form)
        self.audiences = frozenset({issuer, issuer + TOKEN_PATH, issuer + request.path})
        self.client_certificate: x509.Certificate | None = forwarded_certificate(
            request.remote_addr, request.headers, settings
        )
        self.bound_x5t: str | None = None
        self.granted_scopes: tuple[str, ...] = ()
        self.attempted: str | None = None
        # the client this request proved to be (set by the server once authentication passed)
        self.proven_client = None

    @property
    def form(self):
        return self._flask.form

    @property
    def args(self):
        return self._flask.args

    def malformed(self, *, needs_grant_type: bool) -> bool:
        """RFC 6749 sections 3.2 and 4.4.2: form-encoded POST, every parameter at most once."""
        if self._flask.mimetype != "application/x-www-form-urlencoded":
            return True
        if any(len(values) > 1 for _, values in self._flask.form.lists()):
            return True
        return needs_grant_type and not self._flask.form.get("grant_type")
