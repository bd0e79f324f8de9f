"""The consent registry's use cases: record, withdraw, read, search and check.

``ConsentService(store, signer, subjects, clock, issuer)`` takes everything it depends on in
its constructor, so tests drive it with an in-memory store, a fake signer and a clock they
move by hand. It is also the exchange pipeline's :class:`~consent.interfaces.ConsentChecker`.
Nothing is cached: every check reads the store, so a withdrawal made by one process holds
for all of them at once.

Who sees what follows API.md section 13: a search by BSN answers the consents the caller
recorded, and those naming it by OIN once it had the child's BSN (``knowledge``); a search
by the caller's own pseudonym answers what it may see; a party given as a type sees a
consent only after receiving an exchange under it (``exchanges``). Both default to "nobody",
so a registry wired without them fails closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from pseudonymise import Bsn, LinkTag

from .age import check_grantors
from .errors import ConsentNotFoundError, WithdrawNotAllowedError
from .interfaces import (
    ConsentChecker,
    ConsentDecision,
    ConsentQuestion,
    ConsentStore,
    ExchangeRecord,
    NobodyKnows,
    Party,
    ReceiptSigner,
    SubjectKnowledge,
)
from .matching import decide, findable_by_bsn, may_withdraw, superseded_by
from .matching import may_see as _may_see
from .receipts import RECEIPT_TYPE, is_legacy, receipt_claims, stored_claims
from .records import (
    Actor,
    Consent,
    NewConsent,
    PrivateDetails,
    RegistryEvent,
    StatusEntry,
    terms_of,
)
from .status import DEFAULT_TIMEZONE, SUPERSEDED, WITHDRAWN, status_at
from .subjects import DomainSubjects

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ConsentPage:
    """One page of a search, oldest first; ``more`` when a further page exists."""

    items: list[Consent]
    more: bool


def party_of(actor: Actor) -> Party:
    return Party(actor.org_oin, actor.org_type)


def may_see(consent: Consent, viewer: Actor, received_under: bool = False) -> bool:
    """:func:`consent.matching.may_see` for an actor."""
    return _may_see(consent, party_of(viewer), received_under)


def page(consents: list[Consent], after: int, limit: int) -> ConsentPage:
    """Consents after position ``after`` in ``seq`` order, at most ``limit``."""
    later = sorted((c for c in consents if (c.seq or 0) > after), key=lambda c: c.seq or 0)
    return ConsentPage(later[:limit], len(later) > limit)


@dataclass(eq=False)
class ConsentService(ConsentChecker):
    """The registry, built from everything it depends on (see the module's docstring);
    ``knowledge`` and ``exchanges`` left out (or None) mean "nobody"."""

    store: ConsentStore
    signer: ReceiptSigner
    subjects: DomainSubjects
    clock: Clock
    issuer: str
    timezone: str = DEFAULT_TIMEZONE
    knowledge: SubjectKnowledge | None = None
    exchanges: ExchangeRecord | None = None

    def __post_init__(self) -> None:
        self.knowledge = self.knowledge or NobodyKnows()
        self.exchanges = self.exchanges or NobodyKnows()

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
            recorded_by=recorder,
            created_at=now,
            **terms_of(new),
        )
        consent = replace(consent, receipt=self._sign(consent, now))
        details = PrivateDetails(new.date_of_birth, new.evidence_reference)
        event = RegistryEvent(
            "consent.record",
            recorder,
            consent.id,
            consent.purpose,
            refs[0],
            now,
            transaction_id,
            clear_to=(recorder.org_oin,),  # it named the child: by BSN, or encrypted from it
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

        The recorder, a party named by OIN or the operator may withdraw (a family may tell
        any of them); an organisation covered by type may not (API.md section 13, rule 3).
        One that may not even see the consent gets ``ConsentNotFoundError``, as for an id
        that does not exist; one that sees it, ``WithdrawNotAllowedError``.
        """
        consent = self.get(consent_id, actor)
        if not may_withdraw(consent, party_of(actor)):
            raise WithdrawNotAllowedError(
                "Only the recorder, a party named by OIN or the operator may withdraw it."
            )
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
        """The consent for those who may see it (:func:`consent.matching.may_see`);
        ``ConsentNotFoundError`` for anyone else, exactly as for an unknown id."""
        consent = self.store.get(consent_id)
        if consent is None or not self.visible(consent, viewer):
            raise ConsentNotFoundError("No consent with this id.")
        return consent

    def visible(self, consent: Consent, viewer: Actor) -> bool:
        if may_see(consent, viewer):
            return True
        received = self.exchanges.received_under(viewer.org_oin, [consent.id])
        return may_see(consent, viewer, consent.id in received)

    def findable(self, child: Bsn | LinkTag, viewer: Actor) -> list[Consent]:
        """Rule 2, by BSN (or its polymorphic form): what the viewer recorded, and what
        names it by OIN once it had this child's BSN; everything for the operator."""
        party = party_of(viewer)
        had_bsn = self.knowledge.had_bsn(viewer.org_oin, child)
        consents = self.store.for_subject(self.subjects.refs(child))
        return [c for c in consents if findable_by_bsn(c, party, had_bsn)]

    def received(self, child: Bsn | LinkTag, viewer: Actor) -> list[Consent]:
        """Rule 2, by the viewer's own pseudonym of the child (the caller revealed it): the
        child's consents the viewer may see."""
        consents = self.store.for_subject(self.subjects.refs(child))
        bound = self.exchanges.received_under(viewer.org_oin, [c.id for c in consents])
        return [c for c in consents if may_see(c, viewer, c.id in bound)]

    def search(
        self, bsn: Bsn | LinkTag, viewer: Actor, after: int = 0, limit: int = 50
    ) -> ConsentPage:
        """A page of :meth:`findable`, in recording order."""
        return page(self.findable(bsn, viewer), after, limit)

    def search_received(
        self, child: Bsn | LinkTag, viewer: Actor, after: int = 0, limit: int = 50
    ) -> ConsentPage:
        """A page of :meth:`received`, in recording order."""
        return page(self.received(child, viewer), after, limit)

    def receipt_of(self, consent: Consent) -> str:
        """The receipt to answer with: the stored one, or for a consent recorded before
        API.md section 13 (its receipt names the child the same way for every consent) a
        receipt reissued now with the per-consent ``subject_ref`` and the original ``iat``.
        The stored row is left as it was: history is never rewritten."""
        if not is_legacy(consent):
            return consent.receipt
        issued = stored_claims(consent.receipt).get("iat")
        return self._sign(consent, issued if isinstance(issued, int) else consent.created_at)

    def _sign(self, consent: Consent, issued_at: datetime | int) -> str:
        subject = self.subjects.receipt_ref(consent.id, consent.subject_ref)
        claims = receipt_claims(consent, self.issuer, issued_at, subject)
        return self.signer.sign(claims, RECEIPT_TYPE)

    def status(self, consent: Consent, at: datetime | None = None) -> str:
        """The consent's status now (or at ``at``)."""
        return status_at(consent, at or self.clock(), self.timezone)

    # the exchange pipeline's check ---------------------------------------------------------
    def answer(self, question: ConsentQuestion) -> ConsentDecision:
        """:class:`~consent.interfaces.ConsentChecker`: one indexed read by child and purpose."""
        q = question
        consents = self.store.for_subject(self.subjects.aliases(q.subject_ref), q.purpose)
        return decide(
            consents, q.purpose, q.sender, q.recipient, q.at, self.timezone, q.replying_under
        )
