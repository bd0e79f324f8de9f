"""``/devidp/*``: the development IdP's pages (registered only in development).

``GET /devidp/sso`` shows the demo users for the SP's AuthnRequest; choosing one posts back
here (the form carries an HMAC over the request, the IdP's CSRF token) and the answer is an
auto-submitting form that posts the signed response to the SP's ACS, as the HTTP-POST
binding prescribes. The submit happens through a local script (CSP forbids inline scripts)
with a visible button for browsers without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request

from ...services import services
from ...web import errors as web_errors
from ...web.context import register_context
from ...web.errors import WebError
from .idp import DevelopmentIdp
from .users import DEMO_USERS, demo_user

bp = Blueprint("devidp", __name__)
web_errors.register(bp)
register_context(bp)


def idp() -> DevelopmentIdp:
    return services().saml.development_idp


def _read(saml_request: str):
    try:
        return idp().read_request(saml_request)
    except Exception:  # noqa: BLE001 - pysaml2 raises dozens of unrelated types
        raise WebError(400, "Dit is geen geldig SAML-inlogverzoek.") from None


@bp.get("/devidp/metadata")
def metadata():
    return Response(idp().metadata(), mimetype="application/samlmetadata+xml")


@bp.get("/devidp/sso")
def choose_user():
    saml_request = request.args.get("SAMLRequest", "")
    relay_state = request.args.get("RelayState", "")
    _read(saml_request)
    return render_template(
        "web/devidp_login.html",
        users=DEMO_USERS,
        saml_request=saml_request,
        relay_state=relay_state,
        token=idp().form_token(saml_request, relay_state),
    )


@bp.post("/devidp/sso")
def sign_in():
    saml_request = request.form.get("SAMLRequest", "")
    relay_state = request.form.get("RelayState", "")
    if not idp().check_form_token(saml_request, relay_state, request.form.get("token", "")):
        raise WebError(400, "Dit formulier is niet geldig (CSRF-controle).")
    user = demo_user(request.form.get("user", ""))
    if user is None:
        raise WebError(400, "Kies een van de demogebruikers.")
    _read(saml_request)
    acs_url, saml_response = idp().respond(saml_request, user)
    return render_template(
        "web/autopost.html", action=acs_url, saml_response=saml_response, relay_state=relay_state
    )


@bp.get("/devidp/slo")
def single_logout():
    try:
        location = idp().logout(
            request.args.get("SAMLRequest", ""), request.args.get("RelayState", "")
        )
    except Exception:  # noqa: BLE001 - pysaml2 raises dozens of unrelated types
        raise WebError(400, "Dit is geen geldig SAML-uitlogverzoek.") from None
    return redirect(location)
