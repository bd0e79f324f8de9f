"""What the exchange pipeline needs from the consent registry, as typing Protocols.

The pipeline depends on this interface only; ``consent.checker`` implements it over the
shared database, and tests may pass a small fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Party:
    """An organisation taking part in an exchange, by OIN and type."""

    oin: str
    type: str


@dataclass(frozen=True)
class ConsentDecision:
    """``allowed`` with the covering consent's id, or refused with the most specific code:
    ``consent_missing``, ``consent_withdrawn`` or ``consent_expired``."""

    allowed: bool
    consent_id: str | None = None
    code: str | None = None


class ConsentChecker(Protocol):
    def check(
        self, subject_ref: str, purpose: str, sender: Party, recipient: Party, at: datetime
    ) -> ConsentDecision:
        """Decide whether a consent covers this exchange at ``at``.

        ``subject_ref`` is the child's consent-domain pseudonym, never the BSN.
        """
        ...


class NoConsentRegistry:
    """Fails closed: without a registry no consent-based exchange is allowed."""

    def check(
        self, subject_ref: str, purpose: str, sender: Party, recipient: Party, at: datetime
    ) -> ConsentDecision:
        return ConsentDecision(False, None, "consent_missing")
