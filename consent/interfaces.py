"""The registry's seams, as typing Protocols and one base class.

``ConsentChecker`` is what the exchange pipeline needs; ``ConsentService`` implements it
(:mod:`consent.service`) and tests may pass a small fake. ``ConsentStore`` and
``ReceiptSigner`` are what the service needs from the gateway: the shared database (with the
audit record of each change in the same transaction) and the gateway's signing key.
``SubjectKnowledge`` and ``ExchangeRecord`` answer the two questions of API.md section 13
that the registry cannot answer from its own tables: did an organisation already have a
child's BSN, and did it receive an exchange under a consent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pseudonymise import Bsn, LinkTag

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


@dataclass(frozen=True)
class ConsentQuestion:
    """One exchange the pipeline asks about, at ``at``.

    ``subject_ref`` is the child's consent-domain pseudonym, never the BSN. ``replying_under``
    is, for a reply (``in_reply_to``), the consent id of the exchange replied to: a party named
    by type may send only such a reply (API.md section 13, rule 3).
    """

    subject_ref: str
    purpose: str
    sender: Party
    recipient: Party
    at: datetime
    replying_under: str | None = None


class ConsentChecker(ABC):
    """What the exchange pipeline needs: :meth:`check`, with the question as its arguments.

    A checker answers the question as one value (:meth:`answer`), so the call's signature is
    written here only; tests may pass any object with a ``check`` of this signature.
    """

    def check(
        self,
        subject_ref: str,
        purpose: str,
        sender: Party,
        recipient: Party,
        at: datetime,
        replying_under: str | None = None,
    ) -> ConsentDecision:
        """Decide whether a consent covers this exchange at ``at`` (:class:`ConsentQuestion`)."""
        question = ConsentQuestion(subject_ref, purpose, sender, recipient, at, replying_under)
        return self.answer(question)

    @abstractmethod
    def answer(self, question: ConsentQuestion) -> ConsentDecision:
        """The decision on ``question``."""


class NoConsentRegistry(ConsentChecker):
    """Fails closed: without a registry no consent-based exchange is allowed."""

    def answer(self, question: ConsentQuestion) -> ConsentDecision:
        return ConsentDecision(False, None, "consent_missing")


class SubjectKnowledge(Protocol):
    """Whether an organisation already had a child's BSN from the gateway or sent it.

    Consent search by BSN shows a consent that names the caller by OIN only then (API.md
    section 13, rule 2): otherwise a partner that knows the child by pseudonym could confirm
    a guessed BSN by searching for it.
    """

    def had_bsn(self, org_oin: str, child: Bsn | LinkTag) -> bool:
        ...


class ExchangeRecord(Protocol):
    """Which consents an organisation received exchanges under (a type party's binding)."""

    def received_under(self, org_oin: str, consent_ids: Sequence[str]) -> set[str]:
        """Those of ``consent_ids`` under which ``org_oin`` received at least one exchange."""
        ...


class NobodyKnows:
    """Fails closed: no organisation is taken to have had any BSN, or received anything."""

    def had_bsn(self, org_oin: str, child: Bsn | LinkTag) -> bool:
        return False

    def received_under(self, org_oin: str, consent_ids: Sequence[str]) -> set[str]:
        return set()


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
