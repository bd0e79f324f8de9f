"""What every web template can use: the user, the navigation, the CSRF token, messages,
and the ``dutch`` filters (so no page prints a code)."""

from __future__ import annotations

from flask import Blueprint, request

from ..audit.actors import Actor
from ..services import services
from .access import may_open, pages_for
from .auth import CSRF_FIELD, current_user, no_store
from .labels import register_filters

NAVIGATION = {
    "dashboard": ("/ui/", "Overzicht"),
    "audit": ("/ui/audit", "Auditlog"),
    "subject": ("/ui/audit/subject", "Inzageverzoek"),
    "consents": ("/ui/consents", "Toestemmingen"),
    "reidentifications": ("/ui/reidentifications", "Herleidingen"),
    "retractions": ("/ui/retractions", "Intrekkingen"),
    "organisations": ("/ui/organisations", "Organisaties"),
    "idps": ("/ui/idps", "Inlogmiddelen"),
    "register": ("/ui/verwerkingsregister", "Verwerkingsregister"),
}
ROLE_NAMES = {"privacy_officer": "privacy officer", "admin": "beheerder"}


def pending_reidentifications(user) -> int | None:
    """How many re-identification requests wait for this user's decision; None for a user
    who may not decide (the count is shown in the navigation, so it is read on every page)."""
    if user is None or not may_open(user, "reidentifications"):
        return None
    actor = Actor.web_user(user.org_oin, user.org_type, user.name_id)
    return len(services().reidentifications.pending(actor))


def template_context() -> dict:
    user = current_user()
    nav = [(*NAVIGATION[page], page) for page in pages_for(user)] if user else []
    return {
        "user": user,
        "nav": nav,
        "nav_counts": {"reidentifications": pending_reidentifications(user)},
        "current_path": request.path,
        "csrf_field": CSRF_FIELD,
        "csrf_token": user.csrf_token if user else "",
        "role_names": ROLE_NAMES,
    }


def register_context(bp: Blueprint) -> None:
    """Template variables, the Dutch filters and ``Cache-Control: no-store`` for every page
    of ``bp``."""
    bp.context_processor(template_context)
    register_filters(bp)
    bp.after_request(no_store)
