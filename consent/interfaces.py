"""The registry's seams, as typing Protocols.

``ConsentChecker`` is what the exchange pipeline needs; ``ConsentService`` implements it
(:mod:`consent.service`) and tests may pass a small fake. ``ConsentStore`` and
``ReceiptSigner`` are what the service needs from the gateway: the shared database (with the
audit record of each change in the same transaction) and the gateway's signing key.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .records import Consent, PrivateDetails, RegistryEvent, StatusEntry


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


class ConsentReader(Protocol):
    """Reads of the registry; history is never deleted, so reads never miss a consent."""

    def for_subject(self, subject_refs: Sequence[str], purpose: str | None = None) -> list[Consent]:
        """Every consent of the child (under any of its pseudonyms), oldest first."""
        ...

    def get(self, consent_id: str) -> Consent | None:
        """The consent with this id, or None."""
        ...


class ConsentTransaction(ConsentReader, Protocol):
    """Changes made together, with their audit record, in one database transaction."""

    def add(self, consent: Consent, details: PrivateDetails, entry: StatusEntry) -> None:
        """Store a new consent, its private details (encrypted) and its first history line."""
        ...

    def withdraw(self, entry: StatusEntry) -> Consent:
        """Mark ``entry.consent_id`` withdrawn at ``entry.at`` and append ``entry``."""
        ...

    def supersede(self, entry: StatusEntry) -> None:
        """Mark ``entry.consent_id`` superseded by ``entry.related_consent_id``."""
        ...


class ConsentStore(ConsentReader, Protocol):
    """The registry's storage. ``transaction`` records ``event`` in the audit trail first
    (so that concurrent changes are serialised) and commits it with the changes."""

    def transaction(self, event: RegistryEvent) -> AbstractContextManager[ConsentTransaction]:
        ...


class ReceiptSigner(Protocol):
    """Signs receipt claims as a compact JWS with a key published in ``/oauth/jwks``."""

    def sign(self, claims: dict, token_type: str) -> str:
        ...
