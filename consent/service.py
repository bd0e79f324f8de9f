"""The consent registry's use cases: record, withdraw, read, search and check.

``ConsentService(store, signer, subjects, clock, issuer)`` takes everything it depends on in
its constructor, so tests drive it with an in-memory store, a fake signer and a clock they
move by hand. It is also the exchange pipeline's :class:`~consent.interfaces.ConsentChecker`.
Nothing is cached: every check reads the store, so a withdrawal made by one process holds
for all of them at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from pseudonymise import Bsn, LinkTag

from .age import check_grantors
from .errors import ConsentNotFoundError
from .interfaces import ConsentDecision, ConsentStore, Party, ReceiptSigner
from .matching import decide, names, superseded_by
from .receipts import RECEIPT_TYPE, receipt_claims
from .records import Actor, Consent, NewConsent, PrivateDetails, RegistryEvent, StatusEntry
from .status import DEFAULT_TIMEZONE, SUPERSEDED, WITHDRAWN, status_at
from .subjects import DomainSubjects

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ConsentPage:
    """One page of a search, oldest first; ``more`` when a further page exists."""

    items: list[Consent]
    more: bool


def may_see(consent: Consent, viewer: Actor) -> bool:
    """Parties (by OIN or type) and the recorder see a consent; nobody else learns it exists."""
    return names(consent, Party(viewer.org_oin, viewer.org_type)) or (
        consent.recorded_by.org_oin == viewer.org_oin
    )


class ConsentService:
    def __init__(
        self,
        store: ConsentStore,
        signer: ReceiptSigner,
        subjects: DomainSubjects,
        clock: Clock,
        issuer: str,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.store = store
        self.signer = signer
        self.subjects = subjects
        self.clock = clock
        self.issuer = issuer
        self.timezone = timezone

    # changes -------------------------------------------------------------------------------
    def record(
        self, new: NewConsent, recorder: Actor, transaction_id: str | None = None
    ) -> Consent:
        """Check the age rule, then store the consent with its signed receipt.

        A consent that applies today replaces the ones it restates
        (:func:`consent.matching.superseded_by`); they stay in the history.
        """
        check_grantors(new.date_of_birth, new.valid_from, new.grantor_roles)
        now = self.clock()
        refs = self.subjects.refs(new.bsn)
        consent = Consent(
            id=str(uuid.uuid4()),
            subject_ref=refs[0],
            purpose=new.purpose,
            parties=new.parties,
            grantor_roles=new.grantor_roles,
            valid_from=new.valid_from,
            valid_until=new.valid_until,
            evidence_method=new.evidence_method,
            recorded_by=recorder,
            created_at=now,
        )
        claims = receipt_claims(consent, self.issuer, now)
        consent = replace(consent, receipt=self.signer.sign(claims, RECEIPT_TYPE))
        details = PrivateDetails(new.date_of_birth, new.evidence_reference)
        event = RegistryEvent(
            "consent.record", recorder, consent.id, consent.purpose, refs[0], now, transaction_id
        )
        with self.store.transaction(event) as changes:
            earlier = changes.for_subject(refs, consent.purpose)
            first = StatusEntry(consent.id, self.status(consent, now), now, recorder)
            changes.add(consent, details, first)
            for old in superseded_by(consent, earlier, now, self.timezone):
                changes.supersede(
                    StatusEntry(old.id, SUPERSEDED, now, recorder, related_consent_id=consent.id)
                )
        return consent

    def withdraw(
        self,
        consent_id: str,
        actor: Actor,
        role: str,
        reason: str,
        transaction_id: str | None = None,
    ) -> Consent:
        """Withdraw at once, for every exchange after this moment; a repeat changes nothing.

        Any party or the recorder may withdraw (a family may tell any of them).
        """
        consent = self.get(consent_id, actor)
        if consent.withdrawn_at is not None:
            return consent
        now = self.clock()
        event = RegistryEvent(
            "consent.withdraw",
            actor,
            consent.id,
            consent.purpose,
            consent.subject_ref,
            now,
            transaction_id,
        )
        entry = StatusEntry(consent.id, WITHDRAWN, now, actor, role=role, reason=reason)
        with self.store.transaction(event) as changes:
            return changes.withdraw(entry)

    # reads ---------------------------------------------------------------------------------
    def get(self, consent_id: str, viewer: Actor) -> Consent:
        """The consent for a party or its recorder; ``ConsentNotFoundError`` for anyone else."""
        consent = self.store.get(consent_id)
        if consent is None or not may_see(consent, viewer):
            raise ConsentNotFoundError("No consent with this id.")
        return consent

    def search(
        self, bsn: Bsn | LinkTag, viewer: Actor, after: int = 0, limit: int = 50
    ) -> ConsentPage:
        """The child's consents that name the viewer's organisation or its type as a party."""
        party = Party(viewer.org_oin, viewer.org_type)
        matching = [
            consent
            for consent in self.store.for_subject(self.subjects.refs(bsn))
            if names(consent, party) and (consent.seq or 0) > after
        ]
        matching.sort(key=lambda consent: consent.seq or 0)
        return ConsentPage(matching[:limit], len(matching) > limit)

    def status(self, consent: Consent, at: datetime | None = None) -> str:
        """The consent's status now (or at ``at``)."""
        return status_at(consent, at or self.clock(), self.timezone)

    # the exchange pipeline's check ---------------------------------------------------------
    def check(
        self, subject_ref: str, purpose: str, sender: Party, recipient: Party, at: datetime
    ) -> ConsentDecision:
        """:class:`~consent.interfaces.ConsentChecker`: one indexed read by child and purpose."""
        consents = self.store.for_subject(self.subjects.aliases(subject_ref), purpose)
        return decide(consents, purpose, sender, recipient, at, self.timezone)
