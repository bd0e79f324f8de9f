"""``/saml/metadata``, ``/login``, ``/saml/acs``, ``/saml/slo`` and ``/logout`` (API.md 10).

Thin: each view asks :class:`~gateway.saml.provider.ServiceProvider` and the session store,
then redirects or renders. A refused response raises a ``SamlError``, which the blueprint's
error handler turns into a Dutch page (and a log line); no session is created and no cookie set
on that path. ``/login`` binds the login to the browser with a short-lived cookie, checked at
the ACS (:mod:`gateway.saml.binding`).

A refused response identifies no one, whatever it claims: it is counted in
``gateway_auth_failures_total{method="saml"}`` and never written to the audit log, so that
garbage posted to the ACS cannot grow the log (API.md section 13 rule 4). A verified login
whose IdP claims a role the gateway does not honour for that person (a role for an unknown
or suspended organisation, the admin role outside the operator) is written as
``auth.failure``: that request proved who it was.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, redirect, render_template, request

from .. import metrics
from ..audit.log import AuditEvent
from ..config import ConfigurationError
from ..ratelimit import address_rate_limited
from ..services import services
from ..web import errors as web_errors
from ..web.auth import (
    check_csrf,
    clear_session_cookie,
    cookie_name,
    current_user,
    set_session_cookie,
)
from ..web.context import register_context
from . import binding
from . import logout as logout_flow
from .errors import SamlError, SamlNotConfigured
from .provider import ServiceProvider
from .relaystate import safe_path

log = logging.getLogger(__name__)

bp = Blueprint("saml", __name__)
web_errors.register(bp)
register_context(bp)


def provider() -> ServiceProvider:
    return services().saml


@bp.get("/saml/metadata")
def metadata():
    try:
        document = provider().metadata()
    except ConfigurationError:
        # production without the SP key pair (and so without a saml block): nothing to publish
        return render_template("web/not_configured.html"), 503
    return Response(document, mimetype="application/samlmetadata+xml")


@bp.get("/login")
@address_rate_limited
def login():
    next_path = safe_path(request.args.get("next"))
    if current_user() is not None:
        return redirect(next_path)
    value = binding.new_value()
    try:
        location = provider().start_login(next_path, value)
    except SamlNotConfigured:
        body = render_template("web/not_configured.html")
        return body, 503
    response = redirect(location)
    binding.set_cookie(response, _settings(), value)
    return response


def _settings():
    return services().settings


@bp.post("/saml/acs")
@address_rate_limited
def acs():
    core = services()
    try:
        login = provider().finish_login(
            request.form.get("SAMLResponse"),
            request.form.get("RelayState"),
            request.cookies.get(binding.cookie_name(_settings())),
        )
    except SamlNotConfigured:
        raise
    except SamlError as exc:
        # the class's code: a fixed enumeration (saml_malformed, saml_refused, ...)
        metrics.AUTH_FAILURES.labels("saml", type(exc).code).inc()
        raise
    token = core.web_sessions.create(login.identity)
    log.info("web login", extra={"roles": ",".join(login.identity.roles) or "none"})
    _audit_unvouched_roles(core, login.identity, token)
    response = redirect(login.next_path, code=303)
    set_session_cookie(response, token)
    binding.clear_cookie(response, _settings())
    return response


def unvouched_reason(user) -> str | None:
    """Why roles the IdP claimed for this person do not count, or None when all count."""
    if user is None or not set(user.claimed_roles) - set(user.roles):
        return None
    if user.org_type is None:
        return "saml_organisation_unknown"
    if user.org_status != "active":
        return "organisation_suspended"
    return "saml_role_not_vouched"


def _audit_unvouched_roles(core, identity, token: str) -> None:
    """``auth.failure`` for a verified login claiming roles the IdP may not vouch for.

    The login itself goes on (the person sees the Dutch "no access" page); the event lets the
    operator's privacy officers see such claims. A failing write never fails the login.
    """
    try:
        reason = unvouched_reason(core.web_sessions.load(token))
        if reason is None:
            return
        core.web_trail.write(
            AuditEvent(
                action="auth.failure",
                decision="denied",
                reason=reason,
                actor_org=identity.org_oin,
                actor_user=identity.name_id[:400],
                fsc_transaction_id=g.get("fsc_transaction_id"),
            )
        )
    except Exception:  # noqa: BLE001 - the login is answered even if auditing fails
        log.exception("could not audit a login with unvouched roles")


@bp.get("/logout")
def logout_form():
    if current_user() is None:
        return render_template("web/logged_out.html")
    return render_template("web/logout.html", user=current_user())


@bp.post("/logout")
def logout():
    user = current_user()
    check_csrf(user)
    core = services()
    core.web_sessions.end(request.cookies.get(cookie_name()))
    g.web_user = None
    location = logout_flow.start_logout(
        provider(), user.name_id, user.name_id_format, user.session_index
    )
    # a page that follows a link rather than a redirect: browsers apply the form's CSP
    # (form-action 'self') to redirects after a POST, which would block an external IdP
    template = "web/logout_continue.html" if location else "web/logged_out.html"
    response = Response(render_template(template, location=location))
    clear_session_cookie(response)
    return response


@bp.get("/saml/slo")
def single_logout():
    """The IdP's answer to our logout, or the IdP asking us to end a person's sessions."""
    core = services()
    if "SAMLRequest" in request.args:
        name_id, session_index, location = logout_flow.idp_logout_request(
            provider(), request.query_string.decode("ascii", "replace")
        )
        core.web_sessions.end_for(name_id, session_index)
        response = redirect(location)
        clear_session_cookie(response)
        return response
    if "SAMLResponse" in request.args:
        logout_flow.finish_logout(provider(), request.args["SAMLResponse"])
    response = Response(render_template("web/logged_out.html"))
    clear_session_cookie(response)
    return response
