"""Resource protection for ``/api/v1/*``: who is calling, and may they do this.

A view declares what it needs::

    @bp.post("/api/v1/exchanges")
    @require_scope("exchange:send", on_refused=audit_refusal)
    def send():
        caller = current_caller()   # organisation of the token, for the handler

Per request: the bearer token (RFC 6750 section 2.1, header only) is verified as a gateway
access token (:meth:`TokenService.verify`: RFC 9068 section 4), then ONE database query
fetches its row with client and organisation, so a revoked token, a removed client or a
suspended organisation is refused at once by every process. A certificate-bound token
(RFC 8705 section 3) must come with the same certificate through a trusted proxy. Refusals
are problem+json with the RFC 6750 section 3 ``WWW-Authenticate`` header (API.md section 2).
A refused token is counted in ``gateway_auth_failures_total``; only a token that passed every
check of its own (signature, row, binding) and belongs to a suspended organisation is also
written as ``auth.failure`` (API.md section 13 rule 4).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import g, request

from .. import metrics
from ..api.request import check_transaction_id
from ..problems import GatewayError
from ..services import services
from .certificates import forwarded_certificate, thumbprint
from .errors import InsufficientScope, InvalidToken, MissingToken, Refused
from .failures import record_failure


@dataclass(frozen=True)
class Caller:
    """The client behind a valid access token and the organisation it acts for."""

    client_id: str
    org_id: int
    org_oin: str
    org_type: str
    org_name: str
    scopes: frozenset[str]
    token_jti: str


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None when there is no such header.

    Another scheme counts as no token (RFC 6750 section 3.1: no error code when the client
    did not attempt bearer authentication); ``Bearer`` without a value is an invalid token.
    """
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value or " " in value:
        raise Refused("malformed_header")
    return value


def identify(token: str, remote_addr: str | None, headers) -> Caller:
    """Verify ``token`` and load its caller; raises :class:`Refused` naming the check."""
    core = services()
    claims = core.tokens.verify(token)
    view = core.oauth_store.token(claims["jti"])
    if view is None or view.revoked:
        raise Refused("revoked_or_unknown")
    if view.client_id != claims["client_id"] or view.org_oin != claims["org"]:
        raise Refused("token_row_mismatch")
    bound = (claims.get("cnf") or {}).get("x5t#S256")
    if bound != view.x5t_s256:
        raise Refused("binding_mismatch")
    if bound:
        presented = thumbprint(forwarded_certificate(remote_addr, headers, core.settings))
        if presented is None or not hmac.compare_digest(presented, bound):
            raise Refused("certificate_not_presented")
    # last: only a caller that passed every proof above may leave an audit event
    if view.org_status != "active":
        raise Refused("organisation_suspended", proven=(view.org_oin, view.client_id))
    return Caller(
        client_id=view.client_id,
        org_id=view.org_id,
        org_oin=view.org_oin,
        org_type=view.org_type,
        org_name=view.org_name,
        scopes=frozenset(claims["scope"].split()) & frozenset(view.client_scopes),
        token_jti=view.jti,
    )


def authenticate_request() -> Caller:
    """The caller of the current request, or a 401 problem (``missing_token``/``invalid_token``).

    Also stores the caller for :func:`current_caller`. :func:`require_scope` calls this; call
    it directly only where a view decides on scopes itself.
    """
    try:
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            metrics.AUTH_FAILURES.labels("bearer", "missing_token").inc()
            raise MissingToken()
        caller = identify(token, request.remote_addr, request.headers)
    except Refused as refused:
        metrics.AUTH_FAILURES.labels("bearer", "invalid_token").inc()
        if refused.proven is not None:
            org_oin, client_id = refused.proven
            record_failure(
                services().db,
                services().audit_log,
                org_oin,
                client_id,
                InvalidToken.code,
                g.get("fsc_transaction_id"),
            )
        raise InvalidToken() from None
    g.oauth_caller = caller
    return caller


def _allowed(granted: frozenset[str], needed: tuple[str, ...], any_of: bool) -> bool:
    if not needed:
        return True
    if any_of:
        return any(scope in granted for scope in needed)
    return all(scope in granted for scope in needed)


# A body's checks come before the transaction id (API.md section 4 step 3): json_body does it.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _transaction_id_checked(caller: Caller, on_refused) -> None:
    """Step 3 for a request without a body: ``Fsc-Transaction-Id`` not a UUID -> 400
    ``invalid_parameter``, audited like any refusal after the token (``on_refused``)."""
    try:
        check_transaction_id()
    except GatewayError as error:
        if on_refused is not None:
            on_refused(caller, error.code)
        raise


def require_scope(
    *scopes: str,
    any_of: bool = False,
    on_refused: Callable[[Caller, str], None] | None = None,
):
    """Decorate a Flask view: a valid token with all of ``scopes`` (one of them if ``any_of``).

    No scopes: any valid token. A valid token without the scope gets 403
    ``insufficient_scope``, after ``on_refused(caller, "insufficient_scope")`` if given (the
    place for an audit event of the refused operation).
    """
    if any(not isinstance(scope, str) for scope in scopes):
        raise TypeError("use @require_scope(...) with scope names, not @require_scope")
    needed = tuple(scopes)

    def decorator(view):
        @wraps(view)
        def protected(*args, **kwargs):
            caller = authenticate_request()
            if not _allowed(caller.scopes, needed, any_of):
                metrics.AUTH_FAILURES.labels("bearer", "insufficient_scope").inc()
                if on_refused is not None:
                    on_refused(caller, "insufficient_scope")
                raise InsufficientScope(needed)
            if request.method not in BODY_METHODS:
                _transaction_id_checked(caller, on_refused)
            return view(*args, **kwargs)

        # gateway.http leaves the Fsc-Transaction-Id of these views to this wrapper (after the
        # token and the scope) or, for a body, to gateway.api.request.json_body (after it)
        protected.checks_transaction_id = True
        return protected

    return decorator


def current_caller() -> Caller:
    """The caller of the current request, inside a view protected by :func:`require_scope`."""
    caller = g.get("oauth_caller")
    if caller is None:
        raise RuntimeError("current_caller() is only available in a protected view")
    return caller
