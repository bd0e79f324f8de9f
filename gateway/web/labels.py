"""Dutch names for the audit log's codes, for display only (the codes stay in the data)."""

from __future__ import annotations

ACTION_NAMES = {
    "exchange.send": "bericht verstuurd",
    "exchange.deliver": "bericht afgeleverd",
    "exchange.ack": "ontvangst bevestigd",
    "exchange.dead_letter": "aflevering opgegeven",
    "consent.record": "toestemming vastgelegd",
    "consent.withdraw": "toestemming ingetrokken",
    "consent.read": "toestemming bekeken",
    "consent.search": "toestemmingen gezocht",
    "signal.create": "signaal afgegeven",
    "signal.match": "signalen gekoppeld",
    "signal.close": "signaal gesloten",
    "reidentification.request": "herleiding aangevraagd",
    "reidentification.approve": "herleiding goedgekeurd",
    "reidentification.refuse": "herleiding geweigerd",
    "reidentification.read": "herleiding opgehaald",
    "audit.search": "auditlog doorzocht",
    "audit.subject_report": "inzagerapport gemaakt",
    "audit.export": "auditlog geëxporteerd",
    "audit.verify": "integriteit gecontroleerd",
    "auth.failure": "inloggen mislukt",
}
DECISION_NAMES = {"allowed": "toegestaan", "denied": "geweigerd"}


def action_name(action: str) -> str:
    if action in ACTION_NAMES:
        return ACTION_NAMES[action]
    if action.startswith("admin."):
        return "beheer: " + action[len("admin.") :]
    return action
