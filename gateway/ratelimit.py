"""Rate limits per client and per organisation (Flask-Limiter over a shared store).

Limits are keyed by the *authenticated* caller, so the limit decorators sit inside
``require_scope`` (they run after the token was verified): a flood of forged tokens is turned
away by the protector and counted there, and a partner cannot dodge its limit by inventing
client ids. The store is shared by every process: Redis in production
(``GATEWAY_RATE_LIMIT_STORAGE=redis://...``), memory on a laptop. A refusal is a 429
problem with ``Retry-After``.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter

from .config import Settings
from .services import services

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
    return services().settings.rate_limit_client


def _organisation_limit() -> str:
    return services().settings.rate_limit_organisation


per_client = limiter.shared_limit(_client_limit, scope="client", key_func=client_key)
per_organisation = limiter.shared_limit(
    _organisation_limit, scope="organisation", key_func=organisation_key
)


def _signal_limit() -> str:
    return services().settings.rate_limit_signals


# Opening and closing signals share one allowance per organisation (every client of it): a
# signal answers who else is involved with a child, so a bulk probe must be slow
# (API.md section 13 rule 5). It comes on top of the general limits.
per_organisation_signals = limiter.shared_limit(
    _signal_limit, scope="signals", key_func=organisation_key
)


def _address_limit() -> str:
    return services().settings.rate_limit_address


def address_key() -> str:
    """The client's address: the peer, or behind the trusted TLS terminator the address it
    appended to ``X-Forwarded-For`` (the last entry: the ones before it are the client's own
    words). Anyone else's ``X-Forwarded-For`` is ignored."""
    from .oauth.certificates import from_trusted_proxy

    peer = request.remote_addr or "unknown"
    settings = services().settings
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and from_trusted_proxy(peer, settings):
        last = forwarded.split(",")[-1].strip()
        if last:
            return f"addr:{last[:64]}"
    return f"addr:{peer}"


# Endpoints reached before anyone proved who they are (the OAuth endpoints, /login,
# /saml/acs) are limited per client address, so a flood from one place cannot take the
# verification work (signatures, XML) from everyone else (issue 16).
per_address = limiter.shared_limit(_address_limit, scope="address", key_func=address_key)


def address_rate_limited(view):
    """The per-address limit, for views that run before (or without) authentication."""
    return per_address(view)


def signal_rate_limited(view):
    """The general limits and the signal allowance; below ``@require_scope`` as well."""
    return per_organisation_signals(rate_limited(view))


def _retry_after_at_least_one_second(response):
    """Flask-Limiter writes ``int(reset - now)``, which is 0 in the last second of a window;
    ``Retry-After: 0`` would invite an immediate retry loop, so the least is 1."""
    value = response.headers.get("Retry-After")
    if value is not None and value.lstrip("-").isdigit() and int(value) < 1:
        response.headers["Retry-After"] = "1"
    return response


def rate_limited(view):
    """Apply both limits; put it *below* ``@require_scope`` so the caller is known."""
    return per_organisation(per_client(view))


def init_app(app: Flask, settings: Settings) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = settings.rate_limit_storage
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["RATELIMIT_SWALLOW_ERRORS"] = False
    # registered before the limiter's own hook, so it runs after it (Flask runs them reversed)
    app.after_request(_retry_after_at_least_one_second)
    limiter.init_app(app)
    _without_the_global_check(app)


def _without_the_global_check(app: Flask) -> None:
    """Drop Flask-Limiter's ``before_request`` hook.

    It checks default and application-wide limits on every request (resolving the endpoint's
    limits and consulting the store); the gateway has none: every limit is a decorator that
    checks itself inside the view, after authentication. On a protected GET the hook cost
    about a tenth of the request (docs/performance.md, "Round trips"). Should a default limit
    ever be configured, the hook stays.
    """
    manager = limiter.limit_manager
    if (manager._default_limits or manager._application_limits or limiter._meta_limits
            or limiter._in_memory_fallback):
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if hook != limiter._check_request_limit]
