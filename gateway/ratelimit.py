"""Rate limits per client and per organisation (Flask-Limiter over a shared store).

Limits are keyed by the *authenticated* caller, so the limit decorators sit inside
``require_scope`` (they run after the token was verified): a flood of forged tokens is turned
away by the protector and counted there, and a partner cannot dodge its limit by inventing
client ids. The store is shared by every process: Redis in production
(``GATEWAY_RATE_LIMIT_STORAGE=redis://...``), memory on a laptop. A refusal is a 429
problem with ``Retry-After``.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_limiter import Limiter

limiter = Limiter(
    key_func=lambda: request.remote_addr or "unknown",
    strategy="moving-window",
    headers_enabled=True,
    default_limits=[],
)


def _caller():
    return g.get("oauth_caller")


def client_key() -> str:
    caller = _caller()
    return f"client:{caller.client_id}" if caller else f"ip:{request.remote_addr}"


def organisation_key() -> str:
    caller = _caller()
    return f"org:{caller.org_oin}" if caller else f"ip:{request.remote_addr}"


def _client_limit() -> str:
    return current_app.extensions["gateway"].settings.rate_limit_client


def _organisation_limit() -> str:
    return current_app.extensions["gateway"].settings.rate_limit_organisation


per_client = limiter.shared_limit(_client_limit, scope="client", key_func=client_key)
per_organisation = limiter.shared_limit(
    _organisation_limit, scope="organisation", key_func=organisation_key
)


def rate_limited(view):
    """Apply both limits; put it *below* ``@require_scope`` so the caller is known."""
    return per_organisation(per_client(view))


def init_app(app: Flask) -> None:
    settings = app.extensions["gateway"].settings
    app.config["RATELIMIT_STORAGE_URI"] = settings.rate_limit_storage
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["RATELIMIT_SWALLOW_ERRORS"] = False
    limiter.init_app(app)
