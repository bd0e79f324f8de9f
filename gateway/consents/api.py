"""The registry as the HTTP API sees it: bodies in, answers out, refusals audited.

Handlers stay thin (parse, call, render); this class turns the caller into an ``Actor``,
checks bodies with ``schemas.consent``, calls :class:`consent.service.ConsentService` and
renders the answers of API.md section 5 as section 13 amends them. Every refusal it raises
is first written to the audit log under the attempted action, and so is every read
(``consent.read``, ``consent.search``): who looked at a child's consents is part of the
subject's report.

A search names the child by BSN (or its polymorphic form) or by the caller's own pseudonym.
A pseudonym the gateway did not issue to the caller's organisation is answered exactly like
a BSN no one ever used, an empty page: a refusal would tell a partner which strings are
pseudonyms of other organisations.
"""

from __future__ import annotations

from consent.errors import ConsentError
from consent.records import Actor, Consent, NewConsent
from consent.records import child as child_of
from consent.service import ConsentPage, ConsentService
from pseudonymise import Bsn, LinkTag, PseudonymiseError, organisation_domain
from schemas.consent import load_consent_request, load_consent_search, load_consent_withdrawal
from schemas.errors import SchemaValidationError

from ..audit.log import AuditEvent, rfc3339
from ..clock import Clock, local_date
from ..exchange.notices import WithdrawalNotices
from ..paging import Cursors
from ..pep.subjects import PolymorphicRefusal
from ..problems import InvalidParameter
from .trail import AUDIT_DOMAIN, AuditTrail
from .withdrawal import NotifyingRegistry


def actor(caller) -> Actor:
    return Actor(caller.org_oin, caller.org_type, caller.org_id, caller.client_id)


CURSORS = Cursors("c")
"""Cursors of consent searches."""


class ConsentApi:
    def __init__(
        self,
        service: ConsentService,
        trail: AuditTrail,
        clock: Clock,
        timezone: str,
        notices: WithdrawalNotices | None = None,
    ) -> None:
        # AVG art. 19: a withdrawal, through this API or the web page (which uses this
        # registry too), tells the organisations that received data under the consent
        self.service = NotifyingRegistry(service, notices) if notices is not None else service
        self.trail = trail
        self.clock = clock
        self.timezone = timezone

    def render(self, consent: Consent) -> dict:
        """A consent as API.md section 5 answers it, its status derived now."""
        return {
            "id": consent.id,
            "status": self.service.status(consent),
            "purpose": consent.purpose,
            "parties": list(consent.parties),
            "valid_from": consent.valid_from.isoformat(),
            "valid_until": consent.valid_until.isoformat(),
            "created_at": rfc3339(consent.created_at),
            "receipt": self.service.receipt_of(consent),
            "withdrawn_at": rfc3339(consent.withdrawn_at) if consent.withdrawn_at else None,
        }

    def _link(self, subject: dict, caller) -> LinkTag | None:
        """The child's tag when the subject is polymorphic (its proof checked), else None."""
        if "polymorphic" not in subject:
            return None
        return self.trail.polymorphic.link_of(subject["polymorphic"], caller.org_oin)

    def record(self, caller, body: dict, transaction_id: str) -> dict:
        try:
            loaded = load_consent_request(body, local_date(self.clock(), self.timezone))
            link = self._link(loaded["subject"], caller)
            consent = self.service.record(
                NewConsent.from_body(loaded, link), actor(caller), transaction_id
            )
        except (SchemaValidationError, ConsentError, PolymorphicRefusal) as exc:
            self.deny_naming("consent.record", caller, exc.code, body, transaction_id)
            raise
        return self.render(consent)

    def withdraw(self, caller, consent_id: str, body: dict, transaction_id: str) -> dict:
        visible = None
        try:
            visible = self.service.get(consent_id, actor(caller))
            loaded = load_consent_withdrawal(body)
            consent = self.service.withdraw(
                consent_id,
                actor(caller),
                loaded["withdrawn_by"]["role"],
                loaded["reason"],
                transaction_id,
            )
        except (SchemaValidationError, ConsentError) as exc:
            self.deny("consent.withdraw", caller, exc.code, visible, transaction_id)
            raise
        return self.render(consent)

    def get(self, caller, consent_id: str, transaction_id: str) -> dict:
        try:
            consent = self.service.get(consent_id, actor(caller))
        except ConsentError as exc:
            self.deny("consent.read", caller, exc.code, None, transaction_id)
            raise
        self.trail.write(self.read_event(caller, consent, transaction_id))
        return self.render(consent)

    def search(self, caller, body: dict, transaction_id: str) -> dict:
        try:
            loaded = load_consent_search(body)
            after = CURSORS.decode(loaded["cursor"])
            subject = loaded["subject"]
            link = self._link(subject, caller)
            if "pseudonym" in subject:
                child = self._own_child(subject["pseudonym"], caller)
            else:
                child = link if link is not None else child_of(subject["bsn"])
        except (SchemaValidationError, ConsentError, PolymorphicRefusal, InvalidParameter) as exc:
            self.deny_naming("consent.search", caller, exc.code, body, transaction_id)
            raise
        naming: dict = {}
        if child is None:
            page = ConsentPage([], False)
        elif "pseudonym" in subject:
            page = self.service.search_received(child, actor(caller), after, loaded["limit"])
            naming = {"pseudonym_to": (caller.org_oin,)}
        else:
            page = self.service.search(child, actor(caller), after, loaded["limit"])
            naming = {"clear_to": (caller.org_oin,)}
        self.trail.write(
            AuditEvent(
                action="consent.search",
                decision="allowed",
                actor_org=caller.org_oin,
                actor_client_id=caller.client_id,
                subject_ref=(
                    None
                    if child is None
                    else self.trail.pseudonymiser.pseudonymise_child(child, AUDIT_DOMAIN)
                ),
                fsc_transaction_id=transaction_id,
                **naming,  # the audit index of who named the child how (docs/audit-design.md)
            )
        )
        items = [self.render(consent) for consent in page.items]
        cursor = CURSORS.encode(page.items[-1].seq) if page.more and page.items else None
        return {"items": items, "next_cursor": cursor}

    def _own_child(self, pseudonym: str, caller) -> Bsn | None:
        """The child behind a pseudonym of the caller's own organisation, or None."""
        try:
            return self.trail.pseudonymiser.reveal(pseudonym, organisation_domain(caller.org_oin))
        except PseudonymiseError:
            return None

    # audit helpers -------------------------------------------------------------------------
    def deny(
        self, action: str, caller, code: str, consent: Consent | None, transaction_id: str
    ) -> None:
        """A refusal names the consent only when the caller may see it: an id taken from the
        URL is the caller's text and is never copied into the log unchecked."""
        details: dict = {"fsc_transaction_id": transaction_id}
        if consent is not None:
            details.update(
                consent_id=consent.id,
                purpose=consent.purpose,
                subject_ref=self.trail.from_domain(consent.subject_ref, "consent"),
            )
        self.trail.deny(action, caller, code, **details)

    def deny_naming(self, action: str, caller, code: str, body: dict, transaction_id: str) -> None:
        """A refusal of a request whose body named a child: the child's audit pseudonym when
        the subject is valid and the caller may name it that way."""
        subject_ref = self.trail.subject_ref(body.get("subject"), caller.org_oin)
        self.trail.deny(
            action, caller, code, subject_ref=subject_ref, fsc_transaction_id=transaction_id
        )

    def read_event(self, caller, consent: Consent, transaction_id: str) -> AuditEvent:
        return AuditEvent(
            action="consent.read",
            decision="allowed",
            actor_org=caller.org_oin,
            actor_client_id=caller.client_id,
            consent_id=consent.id,
            purpose=consent.purpose,
            subject_ref=self.trail.from_domain(consent.subject_ref, "consent"),
            fsc_transaction_id=transaction_id,
        )
