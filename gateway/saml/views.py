"""``/saml/metadata``, ``/login``, ``/saml/acs``, ``/saml/acs/artifact``, ``/saml/slo`` and
``/logout`` (API.md 10, issue 21).

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
``auth.failure``: that request proved who it was. So is a verified login that the IdP may
not vouch for (:class:`~gateway.saml.idps.NotVouched`: an organisation outside its list, an
unknown BRIN or KvK number, a too-low eHerkenning assurance level), which creates no session.

With several IdPs, ``/login`` without ``idp`` shows the Dutch discovery page ("Kies uw
organisatie of inlogmiddel"); the choice is remembered in a cookie (the IdP's key only, a
year) and offered first the next time.
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
from .idps import KEY_PATTERN, NotVouched
from .provider import ChooseIdp, ServiceProvider
from .relaystate import safe_path

log = logging.getLogger(__name__)

bp = Blueprint("saml", __name__)
CHOICE_COOKIE = "gateway_saml_idp"
CHOICE_MAX_AGE = 365 * 24 * 3600
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
    chosen = request.args.get("idp") or None
    if chosen is not None and not KEY_PATTERN.match(chosen):
        chosen = ""  # unknown: the provider refuses it in Dutch
    try:
        location = provider().start_login(next_path, value, chosen)
    except SamlNotConfigured:
        body = render_template("web/not_configured.html")
        return body, 503
    except ChooseIdp as choice:
        remembered_key = request.cookies.get(CHOICE_COOKIE)
        remembered = next((i for i in choice.idps if i.key == remembered_key), None)
        idps = sorted(choice.idps, key=lambda i: (i is not remembered, i.name.lower()))
        body = render_template(
            "web/discovery.html", idps=idps, remembered=remembered, next_path=next_path
        )
        return body, 200
    response = redirect(location)
    binding.set_cookie(response, _settings(), value)
    if chosen:
        response.set_cookie(
            CHOICE_COOKIE,
            chosen,
            max_age=CHOICE_MAX_AGE,
            path="/login",
            secure=binding.secure(_settings()),
            httponly=True,
            samesite="Lax",
        )
    return response


def _settings():
    return services().settings


@bp.post("/saml/acs")
@address_rate_limited
def acs():
    return _signed_in(
        lambda cookie: provider().finish_login(
            request.form.get("SAMLResponse"), request.form.get("RelayState"), cookie
        )
    )


@bp.get("/saml/acs/artifact")
@address_rate_limited
def acs_artifact():
    """HTTP-Artifact: the browser brings ``SAMLart``; the response comes over the back
    channel (:mod:`gateway.saml.artifact`)."""
    return _signed_in(
        lambda cookie: provider().finish_artifact(
            request.args.get("SAMLart"), request.args.get("RelayState"), cookie
        )
    )


def _signed_in(finish):
    core = services()
    try:
        login = finish(request.cookies.get(binding.cookie_name(_settings())))
    except SamlNotConfigured:
        raise
    except NotVouched as exc:
        metrics.AUTH_FAILURES.labels("saml", type(exc).code).inc()
        _audit_not_vouched(core, exc)
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


def _audit_not_vouched(core, exc: NotVouched) -> None:
    """``auth.failure`` for a verified response whose organisation the IdP may not vouch for
    (API.md section 13 rule 4: the response proved who sent it); the actor is the NameID, as
    for every web user."""
    try:
        core.web_trail.write(
            AuditEvent(
                action="auth.failure",
                decision="denied",
                reason=exc.reason,
                actor_org=exc.actor_org,
                actor_user=exc.actor_user,
                fsc_transaction_id=g.get("fsc_transaction_id"),
            )
        )
    except Exception:  # noqa: BLE001 - the refusal is answered even if auditing fails
        log.exception("could not audit a refused federated login")


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
        provider(), user.name_id, user.name_id_format, user.session_index, user.idp
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
        name_id, session_index, location, idp_key = logout_flow.idp_logout_request(
            provider(), request.query_string.decode("ascii", "replace")
        )
        core.web_sessions.end_for(name_id, session_index, idp_key)
        response = redirect(location)
        clear_session_cookie(response)
        return response
    if "SAMLResponse" in request.args:
        logout_flow.finish_logout(provider(), request.args["SAMLResponse"])
    response = Response(render_template("web/logged_out.html"))
    clear_session_cookie(response)
    return response
