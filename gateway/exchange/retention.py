"""Retention: a stored payload is kept no longer than its route's ``retention_days``.

Acknowledged messages lost their payload at acknowledgement already. A message whose retention
ends before its recipient acknowledged it is erased and dead-lettered (visibly: status
``dead_lettered`` and an ``exchange.dead_letter`` audit event with reason
``retention_expired``), so nothing is silently lost and nothing is kept longer than allowed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..audit.log import AuditLog
from ..storage.database import Database
from ..storage.models import Organisation
from .generated import message_event
from .models import Message


def purge_expired(db: Database, audit: AuditLog, now: datetime, batch: int = 500) -> int:
    """Erase every payload past its retention; return how many messages were erased."""
    erased = 0
    while True:
        with db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            rows = _expired(session, now, batch)
            if not rows:
                return erased
            _erase(session, audit, rows, now)
            erased += len(rows)


def _expired(session: Session, now: datetime, batch: int) -> list[Message]:
    """The oldest messages past their retention that still hold a payload."""
    return list(
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


def _erase(session: Session, audit: AuditLog, rows: list[Message], now: datetime) -> None:
    """Erase the payloads; dead-letter, with an audit event each, those never acknowledged."""
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
            event = message_event(
                "exchange.dead_letter",
                message.id,
                message,
                actor=(operator, None),
                sender=oins[message.sender_org_id],
                recipient=oins[message.recipient_org_id],
                decision="denied",
                reason="retention_expired",
            )
            audit.append(session, event, now)
