"""What the registry needs to know of the rest of the gateway (API.md section 13).

``AuditKnowledge`` answers rule 2's "did this organisation already have the child's BSN
from the gateway, or send it?" from the audit index, and ``SqlExchangeRecord`` answers rule
3's "did this organisation receive an exchange under this consent?" from the messages.

Why not every event that names the caller in ``subject_clear_to``
(:func:`gateway.audit.knowledge.bsn_known_to`): that index also names an organisation for a
*refused* request or a consent it recorded, and a guesser can make either with any BSN. A
GGD that knows a child only by pseudonym would then name a guessed BSN in a request it knows
will be refused, and search again: the consents naming it by OIN would appear exactly when
the guess was right. So only accepted exchanges count here: the organisation received the
BSN in clear, or sent it in an exchange the gateway accepted.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from pseudonymise import Bsn, DomainPseudonymiser, LinkTag

from ..audit.models import AuditEventRow
from ..exchange.models import Message
from ..storage.database import Database
from ..storage.models import Organisation

AUDIT_DOMAIN = "audit"
EXCHANGED = "exchange.send"


class AuditKnowledge:
    """:class:`consent.interfaces.SubjectKnowledge` over the audit index."""

    def __init__(self, db: Database, pseudonymiser: DomainPseudonymiser) -> None:
        self.db = db
        self.pseudonymiser = pseudonymiser

    def audit_refs(self, child: Bsn | LinkTag) -> tuple[str, ...]:
        """The child's audit pseudonym under every key version held (as the audit log
        wrote it before and after a rotation)."""
        versions = self.pseudonymiser.keyring.versions
        return tuple(
            self.pseudonymiser.pseudonymise_child(child, AUDIT_DOMAIN, v) for v in versions
        )

    def had_bsn(self, org_oin: str, child: Bsn | LinkTag) -> bool:
        query = (
            select(AuditEventRow.seq)
            .where(
                AuditEventRow.subject_ref.in_(self.audit_refs(child)),
                AuditEventRow.action == EXCHANGED,
                AuditEventRow.decision == "allowed",
                AuditEventRow.subject_clear_to.contains(f",{org_oin},"),
            )
            .limit(1)
        )
        with self.db.engine.connect() as connection:
            return connection.execute(query).first() is not None


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
