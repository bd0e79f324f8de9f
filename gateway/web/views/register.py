"""``/ui/verwerkingsregister``: the register of processing activities (AVG article 30) in
Dutch, for every signed-in officer (privacy officers and administrators, of the operator and
of the partners: the register names no person, and the JSON is public).

The register is the one :class:`~gateway.processing.register.ProcessingRegister` generates
for the API, read from the route policies as they are now; this page only names its codes in
Dutch (:mod:`gateway.web.vocabulary` for message types, purposes, fields and organisation
types; :mod:`gateway.processing.dutch` for the register's own codes), so page and JSON cannot
disagree.
"""

from __future__ import annotations

from flask import render_template

from ...processing import dutch, ids
from ...services import services
from .. import vocabulary
from ..auth import require_page
from ..sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT
from . import bp

PAGE = "register"
"""Every officer, of any organisation (gateway/web/access.py)."""


def field_name(code: str) -> str:
    """A payload field (the web vocabulary) or an item of the gateway's own processing."""
    if code in dutch.ITEMS:
        return dutch.ITEMS[code]
    return vocabulary.name("field", code)


def activity_name(activity: dict) -> str:
    kind, message_type = activity["kind"], activity["message_type"]
    if kind == "route":
        route = activity["route"]
        text = f"{message_type} ({route['sender_type']} → {route['recipient_type']})"
        return vocabulary.route(text)
    if kind == "generated_message":
        return vocabulary.name("message_type", message_type) + " (gemaakt door de gateway)"
    return dutch.OWN_ACTIVITIES[activity["id"]]


def purpose_name(code: str) -> str:
    return dutch.PURPOSES.get(code) or vocabulary.name("purpose", code)


def legal_basis(activity: dict) -> dict:
    basis = activity["legal_basis"]
    citation = basis["citation"]
    if citation is None and activity["id"] == ids.REIDENTIFICATION:
        citation = dutch.REIDENTIFICATION_BASIS
    elif citation is None and basis["type"] == "legal_obligation":
        citation = dutch.ESCALATION_BASIS
    return {
        "type": vocabulary.name("legal_basis", basis["type"]),
        "explanation": dutch.LEGAL_BASES[basis["type"]],
        "citation": citation,
    }


def retention(activity: dict) -> list[str]:
    """The terms in Dutch sentences."""
    term = activity["retention"]
    if activity["id"] == ids.SIGN_IN:
        hours = int(ABSOLUTE_TIMEOUT.total_seconds() // 3600)
        minutes = int(IDLE_TIMEOUT.total_seconds() // 60)
        return [
            f"Een sessie eindigt na hoogstens {hours} uur, of na {minutes} minuten zonder "
            "activiteit.",
            "Het inloggen zelf staat in de auditlog en blijft daar bewaard.",
        ]
    sentences = []
    if term["days"] is not None:
        sentences.append(f"Gewist {term['days']} dagen {dutch.COUNTED_FROM[term['counted_from']]}.")
    if activity["id"] == ids.AUDIT_LOG:
        sentences.append(
            "Een gebeurtenis wordt nooit gewist: de hashketen bewijst dat de log compleet is."
        )
    audit = term["audit_reference_days"]
    if audit is not None:
        days = (
            f"{audit['min']} dagen na de gebeurtenis"
            if audit["min"] == audit["max"]
            else f"{audit['min']} tot {audit['max']} dagen na de gebeurtenis, naar het doel ervan"
        )
        sentences.append(
            f"De auditlog houdt de verwijzing naar het kind {days}; daarna "
            "wordt die onleesbaar gemaakt (bewaarbeleid gateway/policies/retention.yaml)."
        )
    return sentences


def dutch_activity(activity: dict) -> dict:
    data = activity["personal_data"]
    roles = activity["roles"]
    role_text = (
        dutch.ROLES["route"]
        if activity["kind"] == "route"
        else dutch.ROLES["sign_in"]
        if activity["id"] == ids.SIGN_IN
        else dutch.ROLES["joint"]
    )
    return {
        "id": activity["id"],
        "uri": activity["uri"],
        "name": activity_name(activity),
        "purpose": purpose_name(activity["purpose"]["code"]),
        "legal_basis": legal_basis(activity),
        "data_subjects": [dutch.DATA_SUBJECTS[s["code"]] for s in activity["data_subjects"]],
        "identity": dutch.IDENTITIES[data["identity"]],
        "polymorphic": data["polymorphic_allowed"],
        "kept": [field_name(name) for name in data["kept"]],
        "generalised": [
            (field_name(item["field"]), field_name(item["as"])) for item in data["generalised"]
        ],
        "dropped": [field_name(name) for name in data["dropped"]],
        "added": [field_name(name) for name in data["added_by_gateway"]],
        "recipients": [vocabulary.name("org_type", t) for t in activity["recipients"]],
        "retention": retention(activity),
        "measures": [dutch.SECURITY_MEASURES[m["code"]] for m in activity["security_measures"]],
        "controllers": [vocabulary.name("org_type", t) for t in roles["controllers"]],
        "roles": role_text,
    }


@bp.get("/ui/verwerkingsregister")
@require_page(PAGE)
def processing_register():
    activities = services().processing_register.activities()
    groups = [
        (kind, title, [dutch_activity(a) for a in activities if a["kind"] == kind])
        for kind, title in dutch.KINDS.items()
    ]
    return render_template("web/verwerkingsregister.html", groups=groups, api_path=ids.PATH)
