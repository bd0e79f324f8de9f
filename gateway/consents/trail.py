"""Audit events for registry and signal requests that do not change anything.

Changes carry their audit event in their own transaction (``SqlConsentStore``,
``SignalService``); this module writes the rest: refusals, logged under the action that was
attempted with ``decision: denied`` and ``reason`` = the problem code, and reads of consents.
The child is named only by its audit-domain pseudonym, and only when the request named a
syntactically valid subject.
"""

from __future__ import annotations

from pseudonymise import Bsn, DomainPseudonymiser, PseudonymiseError, organisation_domain
from schemas.errors import SchemaValidationError
from schemas.subject import load_subject

from ..audit.log import AuditEvent, AuditLog
from ..clock import Clock
from ..pep.subjects import PolymorphicRefusal, PolymorphicSubjects
from ..storage.database import Database

AUDIT_DOMAIN = "audit"


class AuditTrail:
    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        pseudonymiser: DomainPseudonymiser,
        clock: Clock,
        polymorphic: PolymorphicSubjects | None = None,
    ) -> None:
        self.db = db
        self.audit = audit
        self.pseudonymiser = pseudonymiser
        self.clock = clock
        self.polymorphic = polymorphic or PolymorphicSubjects.unavailable()

    def subject_ref(self, subject: object, caller_oin: str | None = None) -> str | None:
        """The audit pseudonym of a request's ``subject``: a valid BSN, or (when
        ``caller_oin`` is given) a pseudonym of the caller's own organisation or a polymorphic
        subject whose proof holds for the caller."""
        try:
            loaded = load_subject(subject)
            if "polymorphic" in loaded:
                if caller_oin is None:
                    return None
                link = self.polymorphic.link_of(loaded["polymorphic"], caller_oin)
                return self.pseudonymiser.pseudonymise_link(link, AUDIT_DOMAIN)
            if "encrypted_pseudonym" in loaded:
                return None
            if "bsn" in loaded:
                return self.pseudonymiser.pseudonymise(Bsn(loaded["bsn"]), AUDIT_DOMAIN)
            if caller_oin is None:
                return None
            bsn = self.pseudonymiser.reveal(loaded["pseudonym"], organisation_domain(caller_oin))
            return self.pseudonymiser.pseudonymise(bsn, AUDIT_DOMAIN)
        except (SchemaValidationError, PseudonymiseError, PolymorphicRefusal):
            return None

    def from_domain(self, subject_ref: str, domain: str) -> str | None:
        """The audit pseudonym of a stored consent- or match-domain pseudonym."""
        try:
            return self.pseudonymiser.translate(subject_ref, domain, AUDIT_DOMAIN)
        except PseudonymiseError:
            return None

    def write(self, event: AuditEvent) -> None:
        with self.db.session() as session:
            self.audit.append(session, event, self.clock())

    def deny(self, action: str, caller, code: str, **details) -> None:
        """Record a refused ``action`` by ``caller`` (an OAuth caller) with its code."""
        self.write(
            AuditEvent(
                action=action,
                decision="denied",
                reason=code,
                actor_org=caller.org_oin,
                actor_client_id=caller.client_id,
                **details,
            )
        )
