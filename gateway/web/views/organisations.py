"""``/ui/organisations``: organisations and their clients (admins of the operator only), what
each serves, and the pact regions (read-only: the bootstrap file sets them, OPEN-19).

Every change goes through :class:`~gateway.registry.service.OrganisationRegistry`, the same
service the CLI and the bootstrap file use, and is audited as ``admin.<what>`` with the
administrator's NameID. Types, statuses, methods and scopes are shown by their Dutch names
(:mod:`gateway.web.vocabulary`); the forms post the codes.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import redirect, render_template, request

from ...registry import rules
from ...registry.areas import regional_overview
from ..auth import current_user, require_page
from ..registryadmin import WEB_AUTH_METHODS, RegistryAdmin, registry_admin
from . import bp

MESSAGES = {
    "organisation_added": "Organisatie {subject} is toegevoegd.",
    "suspended": "Organisatie {subject} is geschorst; haar koppelingen kunnen niets meer.",
    "active": "Organisatie {subject} is geactiveerd.",
    "unchanged": "Organisatie {subject} had die status al.",
    "client_added": "Koppeling {subject} is toegevoegd.",
    "rotated": "De sleutels van koppeling {subject} zijn vervangen.",
}


def done(code: str, subject: str):
    return redirect("/ui/organisations?" + urlencode({"melding": code, "over": subject}), code=303)


def answer(admin: RegistryAdmin, problem: str | None, code: str, subject: str):
    """The page again with ``problem`` (422), or without one on to the page that says
    ``code`` happened to ``subject``."""
    if problem:
        return page(admin, problem, 422)
    return done(code, subject)


def page(admin: RegistryAdmin, problem: str | None = None, status: int = 200):
    message = None
    code = request.args.get("melding")
    organisations = admin.registry.organisations()
    if code in MESSAGES:
        subject = request.args.get("over", "")[:100]
        names = {org.oin: org.name for org in organisations}
        message = MESSAGES[code].format(subject=names.get(subject, subject))
    regional = regional_overview(admin.registry.db)
    body = render_template(
        "web/organisations.html",
        organisations=organisations,
        regions=regional.regions,
        serves=regional.serves,
        types=rules.ORGANISATION_TYPES,
        scopes=rules.SCOPES,
        auth_methods=WEB_AUTH_METHODS,
        message=message,
        problem=problem,
    )
    return body, status


@bp.get("/ui/organisations")
@require_page("organisations")
def organisations():
    return page(registry_admin())


@bp.post("/ui/organisations")
@require_page("organisations")
def add_organisation():
    admin, form = registry_admin(), request.form
    problem = admin.add_organisation(
        current_user(), form.get("oin", "").strip(), form.get("name", ""), form.get("type", "")
    )
    return answer(admin, problem, "organisation_added", form.get("oin", "").strip())


@bp.post("/ui/organisations/<oin>/status")
@require_page("organisations")
def set_status(oin: str):
    admin, status = registry_admin(), request.form.get("status", "")
    changed, problem = admin.set_status(current_user(), oin, status)
    return answer(admin, problem, status if changed else "unchanged", oin)


@bp.post("/ui/clients")
@require_page("organisations")
def add_client():
    admin, form = registry_admin(), request.form
    problem = admin.add_client(
        current_user(),
        form.get("oin", ""),
        form.get("client_id", "").strip(),
        form.get("auth", ""),
        form.get("key_material", ""),
        form.getlist("scopes"),
    )
    return answer(admin, problem, "client_added", form.get("client_id", "").strip())


@bp.post("/ui/clients/<client_id>/rotate")
@require_page("organisations")
def rotate_client(client_id: str):
    admin, form = registry_admin(), request.form
    problem = admin.rotate(
        current_user(), client_id, form.get("auth", ""), form.get("key_material", "")
    )
    return answer(admin, problem, "rotated", client_id)
