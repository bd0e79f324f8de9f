"""What every web template can use: the user, the navigation, the CSRF token, messages."""

from __future__ import annotations

from flask import Blueprint, request

from .access import pages_for
from .auth import CSRF_FIELD, current_user, no_store

NAVIGATION = {
    "dashboard": ("/ui/", "Overzicht"),
    "audit": ("/ui/audit", "Auditlog"),
    "subject": ("/ui/audit/subject", "Inzageverzoek"),
    "consents": ("/ui/consents", "Toestemmingen"),
    "reidentifications": ("/ui/reidentifications", "Herleidingen"),
    "organisations": ("/ui/organisations", "Organisaties"),
}
ROLE_NAMES = {"privacy_officer": "privacy officer", "admin": "beheerder"}


def template_context() -> dict:
    user = current_user()
    nav = [(*NAVIGATION[page], page) for page in pages_for(user)] if user else []
    return {
        "user": user,
        "nav": nav,
        "current_path": request.path,
        "csrf_field": CSRF_FIELD,
        "csrf_token": user.csrf_token if user else "",
        "role_names": ROLE_NAMES,
    }


def register_context(bp: Blueprint) -> None:
    """Template variables and ``Cache-Control: no-store`` for every page of ``bp``."""
    bp.context_processor(template_context)
    bp.after_request(no_store)
