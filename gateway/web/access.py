"""Who may open which page (API.md section 10), as data and two small functions.

``privacy_officer`` reaches the dashboard, the audit log, the subject report and consents, and
(operator organisation only) re-identification approvals; ``admin`` reaches the dashboard and
organisations. An admin role is honoured only for people of the operator organisation: the
registry holds every partner's clients, so a partner's administrator must not manage it. A
role claimed for an organisation the gateway does not know, or one that is suspended, counts
as no role.
"""

from __future__ import annotations

PAGES: dict[str, frozenset[str]] = {
    "dashboard": frozenset({"privacy_officer", "admin"}),
    "audit": frozenset({"privacy_officer"}),
    "subject": frozenset({"privacy_officer"}),
    "consents": frozenset({"privacy_officer"}),
    "reidentifications": frozenset({"privacy_officer"}),
    "retractions": frozenset({"privacy_officer"}),
    "organisations": frozenset({"admin"}),
    "idps": frozenset({"admin"}),
    "register": frozenset({"privacy_officer", "admin"}),
}
OPERATOR_ONLY = frozenset({"reidentifications", "retractions"})
KNOWN_ROLES = ("privacy_officer", "admin")


def effective_roles(claimed: tuple[str, ...], organisation) -> tuple[str, ...]:
    """The roles that count: none without an active organisation; admin only for the operator."""
    if organisation is None or organisation.status != "active":
        return ()
    roles = [role for role in claimed if role in KNOWN_ROLES]
    if organisation.type != "operator":
        roles = [role for role in roles if role != "admin"]
    return tuple(roles)


def may_open(user, page: str) -> bool:
    """True when ``user`` (a :class:`~gateway.web.sessions.WebUser`) may open ``page``."""
    if not set(user.roles) & PAGES[page]:
        return False
    return not (page in OPERATOR_ONLY and not user.is_operator)


def pages_for(user) -> list[str]:
    """The pages to show in the navigation, in menu order."""
    return [page for page in PAGES if may_open(user, page)]
