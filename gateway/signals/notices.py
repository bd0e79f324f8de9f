"""``signal_match`` inbox messages, stored exactly as the exchange service stores messages.

Each side of a match gets one message from the operator organisation: its own signal id,
the other party's OIN, name and the contact given in the other party's signal, and when
they matched; never the other's category. The subject is the recipient's own pseudonym for
the child. The message is sealed like every stored message and appears in
``GET /api/v1/inbox``; its audit event (``signal.match``, the operator as actor with no
client or user) is written in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pseudonymise import Bsn, DomainPseudonymiser, LinkTag, organisation_domain
from pseudonymise.pep import ElGamal
from schemas.messages import load_payload

from ..audit.log import AuditEvent, AuditLog, rfc3339
from ..clock import local_date
from ..exchange.models import Message
from ..exchange.sealing import MessageSealer
from ..pep.subjects import PolymorphicChild, PolymorphicSubjects
from ..storage.models import Organisation
from .models import SignalRow

MESSAGE_TYPE = "signal_match"
PURPOSE = "signal_matching"
LEGAL_BASIS = {"type": "legal_obligation", "citation": "Jeugdwet par. 7.1.1 (verwijsindex)"}
RETENTION_DAYS = 365
FIELDS = ["signal_id", "other_party", "matched_at"]


@dataclass(frozen=True)
class Side:
    """One organisation in a match, with the signal that represents it."""

    org: Organisation
    signal: SignalRow


class MatchNotifier:
    def __init__(
        self,
        sealer: MessageSealer,
        audit: AuditLog,
        pseudonymiser: DomainPseudonymiser,
        polymorphic: PolymorphicSubjects | None = None,
    ) -> None:
        self.sealer = sealer
        self.audit = audit
        self.pseudonymiser = pseudonymiser
        self.polymorphic = polymorphic or PolymorphicSubjects.unavailable()

    def subject(self, recipient: Side, child: Bsn | LinkTag) -> tuple[dict, bytes | None]:
        """The recipient's own pseudonym for the child; in polymorphic mode transcrypted from
        the recipient's own signal, so that only the recipient can open it."""
        if type(child) is LinkTag:
            source = ElGamal.from_bytes(recipient.signal.pep_subject)
            return self.polymorphic.deliver(
                PolymorphicChild(child, source, None), recipient.org.oin
            )
        domain = organisation_domain(recipient.org.oin)
        return {"pseudonym": self.pseudonymiser.pseudonymise(child, domain)}, None

    def payload(self, recipient: Side, other: Side, now: datetime, timezone: str) -> dict:
        """What the recipient learns, checked against the ``signal_match`` schema."""
        payload = {
            "signal_id": recipient.signal.id,
            "other_party": {
                "oin": other.org.oin,
                "name": other.org.name,
                "contact": dict(other.signal.contact),
            },
            "matched_at": rfc3339(now),
        }
        return load_payload(MESSAGE_TYPE, payload, local_date(now, timezone))

    def notify(
        self,
        session,
        operator: Organisation,
        recipient: Side,
        other: Side,
        *,
        bsn: Bsn | LinkTag,
        audit_ref: str,
        now: datetime,
        fsc_transaction_id: str,
        timezone: str,
    ) -> str:
        """Store the message for ``recipient`` about ``other``; returns its id."""
        message_id = str(uuid.uuid4())
        subject, delivered = self.subject(recipient, bsn)
        payload = self.payload(recipient, other, now, timezone)
        version, sealed = self.sealer.seal(message_id, {"subject": subject, "payload": payload})
        self.audit.append(
            session,
            AuditEvent(
                action="signal.match",
                decision="allowed",
                actor_org=operator.oin,
                exchange_id=message_id,
                message_type=MESSAGE_TYPE,
                sender=operator.oin,
                recipient=recipient.org.oin,
                purpose=PURPOSE,
                legal_basis=dict(LEGAL_BASIS),
                fields_forwarded=list(FIELDS),
                subject_ref=audit_ref,
                fsc_transaction_id=fsc_transaction_id,
            ),
            now,
        )
        session.add(
            Message(
                id=message_id,
                message_type=MESSAGE_TYPE,
                sender_org_id=operator.id,
                recipient_org_id=recipient.org.id,
                sender_client_id=None,
                purpose=PURPOSE,
                legal_basis=dict(LEGAL_BASIS),
                consent_id=None,
                subject_ref=audit_ref,
                status="accepted",
                created_at=now,
                fsc_transaction_id=fsc_transaction_id,
                key_version=version,
                ciphertext=sealed,
                retain_until=now + timedelta(days=RETENTION_DAYS),
                pep_link=bsn.value if delivered is not None else None,
                pep_delivered=delivered,
            )
        )
        return message_id
