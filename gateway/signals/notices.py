"""``signal_match`` inbox messages, stored exactly as the exchange service stores messages.

Each side of a match gets one message from the operator organisation: its own signal id,
the other party's OIN, name and the contact given in the other party's signal, and when
they matched; never the other's category. The subject is the recipient's own pseudonym for
the child. The message is sealed like every stored message and appears in
``GET /api/v1/inbox``. Purpose, legal basis and retention come from the signal policy.

Each message is a disclosure of one organisation to another (API.md section 13 rule 6), so
its audit event ``signal.match`` names who learned of whom: ``recipient`` is the organisation
that learned, ``sender`` the organisation it learned of, the operator is the actor (no client
or user). It is written in the same transaction as the message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pseudonymise import Bsn, DomainPseudonymiser, LinkTag, organisation_domain
from pseudonymise.pep import ElGamal
from schemas.messages import load_payload

from .. import transaction
from ..audit.log import AuditLog, rfc3339
from ..clock import local_date
from ..exchange.generated import NewMessage, insert_message, message_event
from ..pep.subjects import PolymorphicChild, PolymorphicSubjects
from ..sealing import Sealer
from ..storage.models import Organisation
from .models import SignalRow
from .policy import SignalPolicy, load_signal_policy

MESSAGE_TYPE = "signal_match"
FIELDS = ["signal_id", "other_party", "matched_at"]


@dataclass(frozen=True)
class Side:
    """One organisation in a match, with the signal that represents it."""

    org: Organisation
    signal: SignalRow


class MatchNotifier:
    def __init__(
        self,
        sealer: Sealer,
        audit: AuditLog,
        pseudonymiser: DomainPseudonymiser,
        polymorphic: PolymorphicSubjects | None = None,
        policy: SignalPolicy | None = None,
    ) -> None:
        self.sealer = sealer
        self.audit = audit
        self.pseudonymiser = pseudonymiser
        self.polymorphic = polymorphic or PolymorphicSubjects.unavailable()
        self.policy = policy or load_signal_policy()

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
        """Store the message for ``recipient`` about ``other``; returns its id.

        ``fsc_transaction_id`` is the id of the request that made the match; it is not passed
        on. Each notice gets a transaction id of its own: one id in the notices of both sides
        (or of every side of a three-way match) would be a value the organisations could join
        on, and a sender's id reaches at most one recipient (API.md section 13 rule 1).
        """
        notice_transaction_id = transaction.new()
        message_id = str(uuid.uuid4())
        subject, delivered = self.subject(recipient, bsn)
        payload = self.payload(recipient, other, now, timezone)
        message = self._message(operator, recipient, audit_ref, notice_transaction_id)
        # who learned (recipient) of whom (sender); the message itself is the operator's, and
        # the recipient got its own (or an encrypted) pseudonym, never the BSN
        event = message_event(
            "signal.match",
            message_id,
            message,
            actor=(operator.oin, None),
            sender=other.org.oin,
            recipient=recipient.org.oin,
            fields_forwarded=list(FIELDS),
            pseudonym_to=(recipient.org.oin,),
        )
        self.audit.append(session, event, now)
        sealed_link = self.polymorphic.seal_link(message_id, bsn) if delivered is not None else None
        content = {"subject": subject, "payload": payload}
        insert_message(
            session, self.sealer, message_id, message, content, now, (sealed_link, delivered)
        )
        return message_id

    def _message(
        self, operator: Organisation, recipient: Side, audit_ref: str, transaction_id: str
    ) -> NewMessage:
        """From the operator; purpose, legal basis and retention from the signal policy."""
        return NewMessage(
            message_type=MESSAGE_TYPE,
            sender_org_id=operator.id,
            recipient_org_id=recipient.org.id,
            purpose=self.policy.purpose,
            legal_basis=self.policy.legal_basis,
            subject_ref=audit_ref,
            fsc_transaction_id=transaction_id,
            retention_days=self.policy.retention_days,
        )
