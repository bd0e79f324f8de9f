"""What the registry needs to know of the rest of the gateway (API.md section 13).

``AuditKnowledge`` answers rule 2's "did this organisation already have the child's BSN
from the gateway, or send it?" from the audit index, and ``SqlExchangeRecord`` answers rule
3's "did this organisation receive an exchange under this consent?" from the messages.

Only accepted exchanges count (:func:`gateway.audit.knowledge.bsn_received_or_sent` says
why): a GGD that knows a child only by pseudonym could otherwise name a guessed BSN in a
request it knows will be refused, search again, and see the consents naming it by OIN appear
exactly when the guess was right.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from pseudonymise import Bsn, DomainPseudonymiser, LinkTag

from ..audit.knowledge import bsn_received_or_sent
from ..exchange.models import Message
from ..storage.database import Database
from ..storage.models import Organisation

AUDIT_DOMAIN = "audit"


class AuditKnowledge:
    """:class:`consent.interfaces.SubjectKnowledge` over the audit index."""

    def __init__(self, db: Database, pseudonymiser: DomainPseudonymiser) -> None:
        self.db = db
        self.pseudonymiser = pseudonymiser

    def audit_refs(self, child: Bsn | LinkTag) -> tuple[str, ...]:
        """The child's audit pseudonym under every key version held (as the audit log
        wrote it before and after a rotation)."""
        return self.pseudonymiser.pseudonymise_child_versions(child, AUDIT_DOMAIN)

    def had_bsn(self, org_oin: str, child: Bsn | LinkTag) -> bool:
        with self.db.session() as session:
            return bsn_received_or_sent(session, org_oin, self.audit_refs(child))


class SqlExchangeRecord:
    """:class:`consent.interfaces.ExchangeRecord` over the messages (kept after their
    payload is erased, so the binding outlives acknowledgement and retention)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def received_under(self, org_oin: str, consent_ids: Sequence[str]) -> set[str]:
        if not consent_ids:
            return set()
        query = (
            select(Message.consent_id)
            .join(Organisation, Organisation.id == Message.recipient_org_id)
            .where(Organisation.oin == org_oin, Message.consent_id.in_(list(consent_ids)))
            .distinct()
        )
        with self.db.engine.connect() as connection:
            return {row[0] for row in connection.execute(query)}
