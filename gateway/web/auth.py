"""The signed-in person of a request: session cookie, page guard and CSRF check.

The cookie is ``HttpOnly`` and ``SameSite=Lax`` always, ``Secure`` in production (where it
is also a ``__Host-`` cookie: no ``Domain``, path ``/``, so no sibling host can set or read
it). Every POST of a web form carries the session's CSRF token; a POST without a valid one is
a 400 before the view runs.
"""

from __future__ import annotations

import hmac
from functools import wraps
from urllib.parse import urlencode

from flask import g, redirect, request

from ..services import services
from .access import may_open
from .errors import WebError
from .sessions import ABSOLUTE_TIMEOUT, WebUser

CSRF_FIELD = "csrf_token"


def cookie_name() -> str:
    production = services().settings.is_production
    return "__Host-gateway_session" if production else "gateway_session"


def current_user() -> WebUser | None:
    """The live session's user, loaded once per request."""
    if "web_user" not in g:
        g.web_user = services().web_sessions.load(request.cookies.get(cookie_name()))
    return g.web_user


def set_session_cookie(response, token: str) -> None:
    production = services().settings.is_production
    response.set_cookie(
        cookie_name(),
        token,
        max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
        path="/",
        secure=production,
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response) -> None:
    production = services().settings.is_production
    response.delete_cookie(
        cookie_name(), path="/", secure=production, httponly=True, samesite="Lax"
    )


def no_store(response):
    """Pages with personal data stay out of browser and proxy caches (after_request hook)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def login_redirect():
    """Send an anonymous visitor to ``/login``, to come back to this page afterwards."""
    target = request.full_path if request.query_string else request.path
    if request.method != "GET":
        target = request.path
    return redirect("/login?" + urlencode({"next": target}))


def check_csrf(user: WebUser | None) -> None:
    """400 unless the form's token is this session's (constant-time comparison)."""
    sent = request.form.get(CSRF_FIELD, "").encode("utf-8", "replace")  # bytes: any text
    if user is None or not sent or not hmac.compare_digest(sent, user.csrf_token.encode()):
        raise WebError(
            400,
            "Dit formulier is verlopen of niet geldig (CSRF-controle). Laad de pagina opnieuw "
            "en probeer het nog eens.",
            "Formulier niet geldig",
        )


def require_page(page: str):
    """Guard a view: sign in first, then the access rules of :mod:`gateway.web.access`."""

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            user = current_user()
            if request.method == "POST":
                check_csrf(user)
            if user is None:
                return login_redirect()
            if not may_open(user, page):
                raise WebError(403, no_access_message(user, page))
            return view(*args, **kwargs)

        return guarded

    return decorate


def no_access_message(user: WebUser, page: str) -> str:
    """Why this person may not open this page, in Dutch."""
    if not user.roles:
        if user.org_status == "suspended":
            return (
                "Je organisatie is bij de gateway geschorst. Zolang de schorsing duurt, heeft "
                "niemand van je organisatie toegang."
            )
        if user.org_type is None:
            return (
                "Je organisatie is niet bij de gateway bekend. Vraag de beheerder van de "
                "gateway om je organisatie te registreren."
            )
        if "admin" in user.claimed_roles and user.org_type and user.org_type != "operator":
            return (
                "De rol beheerder geldt alleen voor medewerkers van de beheerorganisatie van "
                "de gateway. Je account heeft geen andere rol in de gateway."
            )
        return (
            "Je account heeft geen rol in de gateway. Alleen privacy officers en beheerders "
            "hebben toegang. Vraag je eigen beheerder van accounts om de juiste rol."
        )
    if page == "reidentifications":
        return (
            "Verzoeken om herleiding worden alleen beoordeeld door privacy officers van de "
            "beheerorganisatie van de gateway."
        )
    if page == "retractions":
        return (
            "Intrekkingen en het meldregister zijn alleen voor privacy officers van de "
            "beheerorganisatie van de gateway."
        )
    if page == "organisations":
        return "Organisaties en clients beheren kan alleen een beheerder."
    return "Deze pagina is alleen voor privacy officers."
