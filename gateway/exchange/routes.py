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
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from schemas.errors import ProfileError
from schemas.profiles import RecipientProfile

from ..storage import direct
from .models import RoutePolicyRow

SHIPPED_ROUTES = Path(__file__).resolve().parent.parent / "policies" / "routes.yaml"
_FIND = select(RoutePolicyRow.__table__).where(
    RoutePolicyRow.message_type == bindparam("message_type"),
    RoutePolicyRow.sender_type == bindparam("sender_type"),
    RoutePolicyRow.recipient_type == bindparam("recipient_type"),
)
"""One route's row, built once (building a select cost more than running it, issue 23)."""


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
    polymorphic: bool = True

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
        polymorphic=row.polymorphic,
    )


ROUTE_KEYS = {
    "message_type",
    "sender_type",
    "recipient_type",
    "purpose",
    "legal_basis",
    "identity",
    "profile",
    "retention_days",
    "allowed",
    "polymorphic",
}


def route_problems(route: object) -> list[tuple[tuple, str]]:
    """Problems with one route mapping as (path inside the route, message); empty when valid.

    The same rules hold for the shipped file and for a bootstrap file's ``routes:`` block.
    A BSN may be forwarded only on a route whose legal basis is a named legal obligation.
    """
    if not isinstance(route, dict):
        return [((), "must be a mapping")]
    problems = _key_problems(route)
    if route.get("allowed", True) is False:
        return problems
    if route.get("allowed", True) is not True:
        problems.append((("allowed",), "must be true or false"))
    return problems + _policy_problems(route)


def _key_problems(route: dict) -> list[tuple[tuple, str]]:
    """The keys, and the route's key: message type, sender and recipient type."""
    from schemas.messages import PARTNER_MESSAGE_TYPES

    from ..registry.rules import ORGANISATION_TYPES

    problems: list[tuple[tuple, str]] = []
    for key in route:
        if key not in ROUTE_KEYS:
            problems.append(((key,), f"unknown key (allowed: {', '.join(sorted(ROUTE_KEYS))})"))
    if route.get("message_type") not in PARTNER_MESSAGE_TYPES:
        problems.append((("message_type",), f"must be one of {', '.join(PARTNER_MESSAGE_TYPES)}"))
    for side in ("sender_type", "recipient_type"):
        if route.get(side) not in ORGANISATION_TYPES:
            problems.append(((side,), f"must be one of {', '.join(ORGANISATION_TYPES)}"))
    return problems


def _policy_problems(route: dict) -> list[tuple[tuple, str]]:
    """What an allowed route must say: purpose, legal basis, identity, retention, profile."""
    from schemas.vocabulary import PURPOSES

    problems: list[tuple[tuple, str]] = []
    if route.get("purpose") not in PURPOSES:
        problems.append((("purpose",), f"must be one of {', '.join(PURPOSES)}"))
    basis = route.get("legal_basis")
    basis_type = basis.get("type") if isinstance(basis, dict) else None
    if basis_type == "legal_obligation":
        citation = basis.get("citation")
        if not isinstance(citation, str) or not 1 <= len(citation) <= 200:
            problems.append((("legal_basis", "citation"), "a legal obligation needs a citation"))
    elif basis_type != "consent":
        problems.append(
            (("legal_basis",), "must be {type: consent} or {type: legal_obligation, citation: ...}")
        )
    identity = route.get("identity")
    if identity not in ("bsn", "pseudonym"):
        problems.append((("identity",), "must be bsn or pseudonym"))
    elif identity == "bsn" and basis_type != "legal_obligation":
        problems.append((("identity",), "a BSN may be forwarded only under a legal obligation"))
    if route.get("polymorphic", True) not in (True, False):
        problems.append((("polymorphic",), "must be true or false"))
    retention = route.get("retention_days")
    if not isinstance(retention, int) or isinstance(retention, bool) or not 1 <= retention <= 3650:
        problems.append((("retention_days",), "must be a whole number of days from 1 to 3650"))
    return problems + _profile_problems(route)


def _profile_problems(route: dict) -> list[tuple[tuple, str]]:
    """The profile names only fields of the message type, and exactly the gateway fields the
    case service adds to that type (``MESSAGE_GATEWAY_FIELDS``): a route that dropped one
    would fail the case's send, one that added one would forward nothing."""
    from schemas.messages import MESSAGE_GATEWAY_FIELDS, MESSAGE_SCHEMAS

    message_type = route.get("message_type")
    if message_type not in MESSAGE_SCHEMAS:
        return []
    try:
        profile = RecipientProfile.from_mapping(
            route.get("profile"), known_fields=MESSAGE_SCHEMAS[message_type]().fields
        )
    except ProfileError as exc:
        return [(("profile",), str(exc))]
    wanted = MESSAGE_GATEWAY_FIELDS.get(message_type, ())
    if set(profile.gateway_fields) != set(wanted):
        expected = f"[{', '.join(wanted)}]" if wanted else "absent"
        return [(("profile", "gateway_fields"), f"must be {expected} for {message_type}")]
    return []


def route_row(route: dict) -> dict:
    """A valid route mapping as the columns of ``route_policies``."""
    return {
        "message_type": route["message_type"],
        "sender_type": route["sender_type"],
        "recipient_type": route["recipient_type"],
        "purpose": route["purpose"],
        "legal_basis_type": route["legal_basis"]["type"],
        "citation": route["legal_basis"].get("citation"),
        "identity": route["identity"],
        "profile": route["profile"],
        "retention_days": route["retention_days"],
        "polymorphic": route.get("polymorphic", True),
    }


def shipped_route_rows() -> list[dict]:
    """The shipped defaults as column dicts (used by the migration that seeds them)."""
    document = yaml.safe_load(SHIPPED_ROUTES.read_text())
    rows = []
    for index, route in enumerate(document["routes"]):
        problems = route_problems(route)
        if problems:
            raise ValueError(f"{SHIPPED_ROUTES.name}: routes[{index}]: {problems}")
        rows.append(route_row(route))
    return rows


class RoutePolicies:
    """Looks up the policy of a route; no policy means the route is not allowed.

    The row is read on every request (a change applies at once in every process); only the
    parsing of an unchanged row (same id and ``updated_at``) is cached.
    """

    def __init__(self) -> None:
        self._parsed: dict[tuple, RoutePolicy] = {}

    @staticmethod
    def retention_days(session: Session) -> dict[tuple[str, str, str], int]:
        """Days a payload is kept, per route (message type, sender type, recipient type):
        what an inzage answer tells a parent about retention."""
        rows = session.execute(
            select(
                RoutePolicyRow.message_type,
                RoutePolicyRow.sender_type,
                RoutePolicyRow.recipient_type,
                RoutePolicyRow.retention_days,
            )
        ).all()
        return {(row[0], row[1], row[2]): row[3] for row in rows}

    def find(
        self, session: Session, message_type: str, sender_type: str, recipient_type: str
    ) -> RoutePolicy | None:
        row = direct.execute(
            session,
            _FIND,
            {
                "message_type": message_type,
                "sender_type": sender_type,
                "recipient_type": recipient_type,
            },
        ).first()
        return self.policy_of(row)

    def policy_of(self, row) -> RoutePolicy | None:
        """The policy of a route's row as read (by :meth:`find` or
        :mod:`gateway.exchange.lookups`), None for no row."""
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
