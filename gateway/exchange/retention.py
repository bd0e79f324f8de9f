"""Retention: a stored payload is kept no longer than its route's ``retention_days``.

Acknowledged messages lost their payload at acknowledgement already. A message whose retention
ends before its recipient acknowledged it is erased and dead-lettered (visibly: status
``dead_lettered`` and an ``exchange.dead_letter`` audit event with reason
``retention_expired``), so nothing is silently lost and nothing is kept longer than allowed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from ..audit.log import AuditEvent, AuditLog
from ..storage.database import Database
from ..storage.models import Organisation
from .models import Message


def purge_expired(db: Database, audit: AuditLog, now: datetime, batch: int = 500) -> int:
    """Erase every payload past its retention; return how many messages were erased."""
    erased = 0
    while True:
        with db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            rows = list(
                session.scalars(
                    select(Message)
                    .where(
                        Message.retain_until <= now,
                        or_(Message.ciphertext.is_not(None), Message.pep_delivered.is_not(None)),
                    )
                    .order_by(Message.seq)
                    .limit(batch)
                )
            )
            if not rows:
                return erased
            operator = session.scalars(
                select(Organisation.oin).where(Organisation.type == "operator").limit(1)
            ).first()
            org_ids = {m.sender_org_id for m in rows} | {m.recipient_org_id for m in rows}
            oins = dict(
                session.execute(
                    select(Organisation.id, Organisation.oin).where(Organisation.id.in_(org_ids))
                ).all()
            )
            for message in rows:
                message.ciphertext = None
                # polymorphic mode: the tag and the delivered ciphertext go too, so a reply
                # by pseudonym can no longer name this exchange
                message.pep_link = message.pep_delivered = None
                if message.status in ("accepted", "delivered"):
                    message.status = "dead_lettered"
                    message.dead_lettered_at = now
                    audit.append(
                        session,
                        AuditEvent(
                            action="exchange.dead_letter",
                            decision="denied",
                            reason="retention_expired",
                            actor_org=operator,
                            exchange_id=message.id,
                            message_type=message.message_type,
                            sender=oins[message.sender_org_id],
                            recipient=oins[message.recipient_org_id],
                            purpose=message.purpose,
                            legal_basis=message.legal_basis,
                            consent_id=message.consent_id,
                            subject_ref=message.subject_ref,
                            fsc_transaction_id=message.fsc_transaction_id,
                        ),
                        now,
                    )
            erased += len(rows)
