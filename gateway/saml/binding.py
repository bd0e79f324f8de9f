"""Binding a login to the browser that started it (login CSRF, issue 16).

Without it, a response is accepted for any outstanding AuthnRequest: an attacker starts a
login in their own browser, signs in at the IdP as themselves and makes the victim's browser
post the resulting response to ``/saml/acs``; the victim then works, unknowingly, in the
attacker's session (and whatever they enter, the attacker reads).

So ``/login`` sets a short-lived cookie holding 256 random bits, and the AuthnRequest's ID
*is* the SHA-256 of that value (``id-`` + hex digest): the hash is stored with the request as
its key, without a schema change, and travels through the IdP as ``InResponseTo``. The ACS
accepts a response only from a browser whose cookie hashes to the response's
``InResponseTo``. The ID is public (it is in the redirect URL and at the IdP), the value is
not, and a hash does not give it away.

The cookie is ``HttpOnly`` and lives as long as an outstanding request (10 minutes). The IdP
posts the response *cross-site* (HTTP-POST binding, a top-level POST from the IdP's origin),
and browsers do not send ``SameSite=Lax`` cookies on a cross-site POST, so the cookie is
``SameSite=None; Secure``, and a ``__Host-`` cookie (``Secure``, ``Path=/``, no ``Domain``)
so that no sibling host can plant its own value. Browsers refuse ``SameSite=None`` without
``Secure``, and ``Secure`` cookies over plain http: only in development with an ``http://``
base URL is the cookie named without the prefix, not ``Secure`` and ``SameSite=Lax``; the
development IdP there is on the same site, so its POST is same-site and the cookie is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ..config import Settings
from .stores import REQUEST_LIFETIME

COOKIE = "gateway_saml_login"
VALUE_BYTES = 32
PREFIX = "id-"


def secure(settings: Settings) -> bool:
    """Secure (and ``__Host-``) unless development over plain http."""
    return settings.is_production or not settings.base_url.startswith("http://")


def cookie_name(settings: Settings) -> str:
    return f"__Host-{COOKIE}" if secure(settings) else COOKIE


def new_value() -> str:
    return secrets.token_urlsafe(VALUE_BYTES)


def request_id(value: str) -> str:
    """The AuthnRequest ID bound to the cookie ``value`` (an XML NCName, 256 bits)."""
    return PREFIX + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def started_here(value: str | None, in_response_to: str) -> bool:
    """True when this browser's cookie ``value`` started the request ``in_response_to``.

    Compared as bytes: both are attacker-chosen text, and ``compare_digest`` refuses (raises
    on) non-ASCII ``str``.
    """
    if not value or len(value) > 200:
        return False
    expected = request_id(value).encode("ascii")
    return hmac.compare_digest(expected, in_response_to.encode("utf-8", "replace"))


def set_cookie(response, settings: Settings, value: str) -> None:
    is_secure = secure(settings)
    response.set_cookie(
        cookie_name(settings),
        value,
        max_age=int(REQUEST_LIFETIME.total_seconds()),
        path="/",
        secure=is_secure,
        httponly=True,
        samesite="None" if is_secure else "Lax",
    )


def clear_cookie(response, settings: Settings) -> None:
    is_secure = secure(settings)
    response.delete_cookie(
        cookie_name(settings),
        path="/",
        secure=is_secure,
        httponly=True,
        samesite="None" if is_secure else "Lax",
    )
