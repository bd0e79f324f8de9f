"""Client authentication methods, registered with authlib's ``register_client_auth_method``.

authlib calls each method with ``(query_client, request)``; a method returns None when the
request does not use it, the client when it passes, and raises ``invalid_client`` when the
request uses it and fails. Exactly one method may be used per request (RFC 6749 section 2.3:
"MUST NOT use more than one authentication method in each request"), so which one a request
uses is decided once, up front, and a failing method never falls through to another.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from cryptography import x509

from certs import sha256_thumbprint_hex

from ..registry.secrets import verify_secret
from .assertions import AssertionVerifier
from .certificates import thumbprint
from .clients import ClientRecord
from .errors import Refused
from .store import OAuthStore

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PRIVATE_KEY_JWT = "private_key_jwt"
TLS_CLIENT_AUTH = "tls_client_auth"
CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name
METHODS = (PRIVATE_KEY_JWT, TLS_CLIENT_AUTH, CLIENT_SECRET_BASIC)


class AuthRequest(Protocol):
    """What client authentication reads from a token request and records on it.

    ``gateway.oauth.requests.GatewayRequest`` (the HTTP layer's request) is the one in use; this
    module names only the fields it needs, so that it stays below the HTTP layer.
    """

    headers: Mapping[str, str]
    audiences: frozenset[str]
    client_certificate: x509.Certificate | None
    attempted: str | None
    bound_x5t: str | None

    @property
    def form(self) -> Mapping[str, str]: ...


class ClientRefused(InvalidClientError):
    """``invalid_client`` with the failed check kept in ``reason`` (never in the answer).

    ``client`` is set only when the request *proved* to be that client (its signature,
    certificate or secret passed) and a later check failed (a suspended organisation): only
    such a refusal may be written to the audit log (API.md section 13 rule 4).
    """

    def __init__(self, reason: str, client: ClientRecord | None = None) -> None:
        super().__init__(status_code=401)
        self.reason = reason
        self.client = client


def attempted_method(request: AuthRequest) -> str:
    """The one authentication method the request carries ("none" when it carries none)."""
    if request.attempted is None:
        form = request.form
        used = []
        if "client_assertion" in form or "client_assertion_type" in form:
            used.append(PRIVATE_KEY_JWT)
        if request.headers.get("Authorization", "").lower().startswith("basic "):
            used.append(CLIENT_SECRET_BASIC)
        if "client_secret" in form:
            used.append("client_secret_post")
        if not used and form.get("client_id") and request.client_certificate is not None:
            used.append(TLS_CLIENT_AUTH)
        if len(used) > 1:
            request.attempted = "multiple"
        else:
            request.attempted = used[0] if used else "none"
    if request.attempted == "multiple":
        raise InvalidRequestError()
    return request.attempted


def _usable(client: ClientRecord | None, method: str) -> ClientRecord:
    if client is None:
        raise Refused("unknown_client")
    if client.auth_method != method:
        raise Refused("wrong_method")
    return client


class _Method:
    """One authentication method: ``prove`` finds the client the request proves to be or raises
    :class:`Refused`; the refusal and the organisation check are the same for every method."""

    name: str

    def __call__(self, query_client, request: AuthRequest) -> ClientRecord | None:
        if attempted_method(request) != self.name:
            return None
        try:
            client = self.prove(query_client, request)
        except Refused as refused:
            raise ClientRefused(refused.reason) from None
        if not client.org_active:
            raise ClientRefused("organisation_suspended", client)
        return client

    def prove(self, query_client, request: AuthRequest) -> ClientRecord:
        raise NotImplementedError


class PrivateKeyJwt(_Method):
    """RFC 7523 section 2.2 client assertions, verified by :mod:`.assertions`."""

    name = PRIVATE_KEY_JWT

    def __init__(self, verifier: AssertionVerifier, store: OAuthStore) -> None:
        self.verifier = verifier
        self.store = store

    def prove(self, query_client, request: AuthRequest) -> ClientRecord:
        form = request.form
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise Refused("assertion_type")
        assertion = self.verifier.read(form.get("client_assertion"))
        if form.get("client_id", assertion.client_id) != assertion.client_id:
            raise Refused("client_id_mismatch")
        client = _usable(query_client(assertion.client_id), self.name)
        verified = self.verifier.verify(assertion, client.jwks, request.audiences)
        # Only after the signature: an unauthenticated caller must not burn a jti. Before
        # the organisation check: a replayed copy of a suspended client's assertion proves
        # nothing, so it is refused as a replay and not audited again.
        if not self.store.remember_assertion(client.client_id, verified.jti, verified.keep_until):
            raise Refused("replayed_jti")
        return client


class TlsClientAuth(_Method):
    """RFC 8705 section 2: the forwarded certificate's SHA-256 must be the registered one."""

    name = TLS_CLIENT_AUTH

    def __call__(self, query_client, request: AuthRequest) -> ClientRecord | None:
        client = super().__call__(query_client, request)
        if client is not None:
            request.bound_x5t = thumbprint(request.client_certificate)
        return client

    def prove(self, query_client, request: AuthRequest) -> ClientRecord:
        certificate = request.client_certificate
        client = _usable(query_client(request.form.get("client_id")), self.name)
        if certificate is None:
            raise Refused("no_certificate")
        actual = sha256_thumbprint_hex(certificate)
        if not hmac.compare_digest(actual, client.tls_cert_sha256 or ""):
            raise Refused("wrong_certificate")
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise Refused("certificate_not_valid_now")
        return client


class DevelopmentSecretBasic(_Method):
    """RFC 6749 section 2.3.1 HTTP Basic with a client secret: development only."""

    name = CLIENT_SECRET_BASIC

    def __init__(self, *, production: bool) -> None:
        self.production = production

    def prove(self, query_client, request: AuthRequest) -> ClientRecord:
        if self.production:
            raise Refused("secrets_refused_in_production")
        client_id, secret = extract_basic_authorization(request.headers)
        if not client_id or not secret:
            raise Refused("malformed_basic")
        client = _usable(query_client(client_id), self.name)
        if not verify_secret(secret, client.secret_hash):
            raise Refused("wrong_secret")
        return client
