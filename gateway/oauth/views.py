"""The OAuth endpoints (API.md section 2) and ``GET /api/v1/me``: thin views over services."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..ratelimit import address_rate_limited, rate_limited
from ..services import authorization_server, services
from .metadata import public_jwks, server_metadata
from .protect import current_caller, require_scope

bp = Blueprint("oauth", __name__)


@bp.post("/oauth/token")
@address_rate_limited
def token():
    """RFC 6749 section 4.4: client credentials."""
    return authorization_server().respond("token")


@bp.post("/oauth/introspect")
@address_rate_limited
def introspect():
    """RFC 7662."""
    return authorization_server().respond("introspect")


@bp.post("/oauth/revoke")
@address_rate_limited
def revoke():
    """RFC 7009."""
    return authorization_server().respond("revoke")


@bp.get("/oauth/jwks")
def jwks():
    return jsonify(public_jwks(services().keys))


@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    return jsonify(server_metadata(services().settings))


@bp.get("/api/v1/me")
@require_scope()
@rate_limited
def me():
    """Who the token speaks for: lets a partner check its token and set-up (any scope)."""
    caller = current_caller()
    return jsonify(
        client_id=caller.client_id,
        org=caller.org_oin,
        org_type=caller.org_type,
        scopes=sorted(caller.scopes),
    )
