"""``/ui/idps``: the identity providers people sign in with (admins of the operator only).

An administrator registers an IdP (its metadata by URL with the signing certificate of the
document, or pasted), suspends it (which ends every session it started) or activates it, and
fetches its metadata now. Each change is checked by :func:`gateway.saml.idps.idp_problems`,
the same rules as the bootstrap file's ``saml.idps`` list, and audited as ``admin.idp.<verb>``
with the administrator's NameID and the IdP's key; a refused change is audited as denied.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import redirect, render_template, request

from ...audit.log import AuditEvent
from ...saml.profiles import PROFILES
from ...services import services
from ..auth import current_user, require_page
from . import bp

MESSAGES = {
    "created": "Identiteitsprovider {subject} is geregistreerd.",
    "updated": "Identiteitsprovider {subject} is gewijzigd.",
    "unchanged": "Identiteitsprovider {subject} was al zo geregistreerd.",
    "suspended": (
        "Identiteitsprovider {subject} is geschorst; de sessies die hij begon zijn beëindigd."
    ),
    "active": "Identiteitsprovider {subject} is geactiveerd.",
    "refreshed": "De metadata van {subject} is opgehaald en gecontroleerd.",
    "refresh_failed": (
        "De metadata van {subject} is geweigerd; de laatste goede kopie blijft in gebruik. "
        "Zie de kolom Metadata."
    ),
}
PROFILE_NAMES = {
    "oin": "OIN (urn:nl:oin)",
    "entree": "Entree (BRIN)",
    "eherkenning": "eHerkenning (KvK-nummer, ten minste EH3)",
}


def _audit(user, verb: str, key: str, decision: str = "allowed", reason: str | None = None):
    event = AuditEvent(
        action=f"admin.idp.{verb}",
        decision=decision,
        reason=reason,
        actor_org=user.org_oin,
        actor_user=user.name_id,
    )
    event.steps = (key,)
    services().web_trail.write(event)


def _admin():
    return services().saml.admin


def page(problem: str | None = None, status: int = 200):
    message = None
    code = request.args.get("melding")
    if code in MESSAGES:
        message = MESSAGES[code].format(subject=request.args.get("over", "")[:40])
    body = render_template(
        "web/idps.html",
        idps=_admin().registrations(),
        profiles=PROFILES,
        profile_names=PROFILE_NAMES,
        message=message,
        problem=problem,
        now=services().clock(),
    )
    return body, status


def done(code: str, key: str):
    return redirect("/ui/idps?" + urlencode({"melding": code, "over": key}), code=303)


@bp.get("/ui/idps")
@require_page("idps")
def idps():
    return page()


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


@bp.post("/ui/idps")
@require_page("idps")
def register_idp():
    form, user = request.form, current_user()
    organisations = _lines(form.get("organisations", ""))
    item = {
        "key": form.get("key", "").strip(),
        "name": form.get("name", "").strip(),
        "profile": form.get("profile", ""),
        "entity_id": form.get("entity_id", "").strip() or None,
        "binding": form.get("binding", "post"),
        "encrypt_assertions": form.get("encrypt_assertions") == "ja",
        "authn_context": _lines(form.get("authn_context", "")),
        "organisations": organisations or "by_identifier",
    }
    pasted = form.get("metadata_xml", "").strip()
    if form.get("metadata_url", "").strip():
        item["metadata_url"] = form["metadata_url"].strip()
    outcome, problems = _admin().register(
        {k: v for k, v in item.items() if v is not None},
        production=services().settings.is_production,
        signer_pem=form.get("metadata_signing_cert", "").strip() or None,
        metadata_document=pasted.encode("utf-8") if pasted else None,
    )
    if outcome is None:
        text = "; ".join(
            f"{'.'.join(map(str, path)) or 'metadata'}: {message}" for path, message in problems
        )
        _audit(user, "create", item["key"][:40] or "-", "denied", "idp_invalid")
        return page(f"De identiteitsprovider is niet geregistreerd: {text}", 422)
    key = item["key"]
    if outcome != "unchanged":
        _audit(user, "create" if outcome == "created" else "update", key)
    return done(outcome, key)


@bp.post("/ui/idps/<key>/status")
@require_page("idps")
def idp_status(key: str):
    status = request.form.get("status", "")
    if status not in ("active", "suspended"):
        return page("Kies actief of geschorst.", 422)
    if not _admin().set_status(key, status):  # suspending ends the IdP's sessions
        return page("Deze identiteitsprovider is niet bekend.", 404)
    _audit(current_user(), "suspend" if status == "suspended" else "activate", key)
    return done(status, key)


@bp.post("/ui/idps/<key>/refresh")
@require_page("idps")
def refresh_idp(key: str):
    refreshed = _admin().refresh(key)
    _audit(
        current_user(),
        "refresh",
        key,
        "allowed" if refreshed else "denied",
        None if refreshed else "idp_metadata_refused",
    )
    return done("refreshed" if refreshed else "refresh_failed", key)
