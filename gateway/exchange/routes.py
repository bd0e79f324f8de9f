"""Route policies: which organisation type may send which message type to which, and how.

A policy names the purpose, the legal basis (a legal obligation with its citation, or
consent), the identity the recipient gets (BSN only with a legal basis for it, else its own
pseudonym), the recipient profile (minimisation) and the retention. They are data: shipped
defaults in ``gateway/policies/routes.yaml``, stored in the database so that every replica
applies the same policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.profiles import RecipientProfile

from .models import RoutePolicyRow

SHIPPED_ROUTES = Path(__file__).resolve().parent.parent / "policies" / "routes.yaml"


@dataclass(frozen=True)
class RoutePolicy:
    message_type: str
    sender_type: str
    recipient_type: str
    purpose: str
    legal_basis_type: str
    citation: str | None
    identity: str
    profile: RecipientProfile
    retention_days: int

    @property
    def needs_consent(self) -> bool:
        return self.legal_basis_type == "consent"

    def legal_basis(self, consent_id: str | None = None) -> dict:
        """The ``legal_basis`` object of the inbox item and the audit event."""
        if self.needs_consent:
            return {"type": "consent", "consent_id": consent_id}
        return {"type": "legal_obligation", "citation": self.citation}


def _profile(row_profile: dict) -> RecipientProfile:
    return RecipientProfile.from_mapping(row_profile)


def policy_from_row(row: RoutePolicyRow) -> RoutePolicy:
    return RoutePolicy(
        message_type=row.message_type,
        sender_type=row.sender_type,
        recipient_type=row.recipient_type,
        purpose=row.purpose,
        legal_basis_type=row.legal_basis_type,
        citation=row.citation,
        identity=row.identity,
        profile=_profile(row.profile),
        retention_days=row.retention_days,
    )


def shipped_route_rows() -> list[dict]:
    """The shipped defaults as column dicts (used by the migration that seeds them)."""
    document = yaml.safe_load(SHIPPED_ROUTES.read_text())
    rows = []
    for route in document["routes"]:
        _profile(route["profile"])
        rows.append(
            {
                "message_type": route["message_type"],
                "sender_type": route["sender_type"],
                "recipient_type": route["recipient_type"],
                "purpose": route["purpose"],
                "legal_basis_type": route["legal_basis"]["type"],
                "citation": route["legal_basis"].get("citation"),
                "identity": route["identity"],
                "profile": route["profile"],
                "retention_days": route["retention_days"],
            }
        )
    return rows


class RoutePolicies:
    """Looks up the policy of a route; no policy means the route is not allowed.

    The row is read on every request (a change applies at once in every process); only the
    parsing of an unchanged row (same id and ``updated_at``) is cached.
    """

    def __init__(self) -> None:
        self._parsed: dict[tuple, RoutePolicy] = {}

    def find(
        self, session: Session, message_type: str, sender_type: str, recipient_type: str
    ) -> RoutePolicy | None:
        row = session.execute(
            select(RoutePolicyRow.__table__).where(
                RoutePolicyRow.message_type == message_type,
                RoutePolicyRow.sender_type == sender_type,
                RoutePolicyRow.recipient_type == recipient_type,
            )
        ).first()
        if row is None:
            return None
        version = (row.id, row.updated_at)
        policy = self._parsed.get(version)
        if policy is None:
            policy = policy_from_row(row)
            if len(self._parsed) > 256:
                self._parsed.clear()
            self._parsed[version] = policy
        return policy
