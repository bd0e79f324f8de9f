"""Operators' view of the outbox: list undelivered messages, queue dead letters again.

``retry`` puts a message back to ``accepted`` with no attempts made and no lease, so the next
worker pass pushes it (and a recipient without a ``delivery_url`` can pull it again). Each
message put back is an ``admin.outbox.retry`` audit event by the operator organisation. A
message whose payload was erased (retention) cannot be delivered any more and is refused.
Listings show metadata only: never subject or payload.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, defer

from ..audit.log import AuditLog, rfc3339
from ..clock import aware
from ..exchange.models import Message
from ..storage.database import Database
from ..storage.models import Organisation
from . import events
from .errors import NotRetryable, PayloadErased, UnknownMessage

LISTABLE = ("accepted", "delivered", "acknowledged", "dead_lettered")
RETRYABLE = ("accepted", "dead_lettered")
BATCH = 500


class OutboxAdmin:
    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    def list(self, status: str | None = None, limit: int = 100) -> list[dict]:
        """Messages in ``status`` (default: accepted and dead-lettered), oldest first."""
        statuses = (status,) if status else RETRYABLE
        with self.db.session() as session:
            rows = session.execute(
                select(Message, Message.ciphertext.is_(None).label("erased"))
                .options(defer(Message.ciphertext))
                .where(Message.status.in_(statuses))
                .order_by(Message.seq)
                .limit(limit)
            ).all()
            messages = [r.Message for r in rows]
            orgs = _orgs(
                session,
                {m.sender_org_id for m in messages} | {m.recipient_org_id for m in messages},
            )
        return [_listed(r.Message, r.erased, orgs) for r in rows]

    def retry(self, message_id: str, now: datetime) -> None:
        """Queue one message for delivery again; raises a :class:`DeliveryError`."""
        with self.db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            message = session.scalars(select(Message).where(Message.id == message_id)).first()
            if message is None:
                raise UnknownMessage(f"no message {message_id}")
            if message.status not in RETRYABLE:
                raise NotRetryable(f"message {message_id} is {message.status}")
            if message.ciphertext is None:
                raise PayloadErased(f"message {message_id} has no payload any more")
            self._requeue(session, [message], now)

    def retry_dead_letters(self, now: datetime) -> tuple[int, int]:
        """Queue every dead letter that still has its payload; (queued, skipped as erased)."""
        queued = 0
        with self.db.session() as session:
            skipped = session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.status == "dead_lettered", Message.ciphertext.is_(None))
            )
        while True:
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                rows = list(
                    session.scalars(
                        select(Message)
                        .where(Message.status == "dead_lettered", Message.ciphertext.is_not(None))
                        .order_by(Message.seq)
                        .limit(BATCH)
                    )
                )
                if not rows:
                    return queued, skipped
                self._requeue(session, rows, now)
                queued += len(rows)

    def _requeue(self, session: Session, messages: list[Message], now: datetime) -> None:
        orgs = _orgs(
            session,
            {m.sender_org_id for m in messages} | {m.recipient_org_id for m in messages},
        )
        operator = events.operator_oin(session)
        for message in messages:
            session.execute(
                update(Message.__table__)
                .where(Message.__table__.c.seq == message.seq)
                .values(
                    status="accepted",
                    attempts=0,
                    next_attempt_at=None,
                    lease_token=None,
                    dead_lettered_at=None,
                )
            )
            event = events.message_event(
                events.RETRY,
                message,
                orgs[message.sender_org_id].oin,
                orgs[message.recipient_org_id].oin,
                operator,
            )
            self.audit.append(session, event, now)


def _orgs(session: Session, ids: set[int]) -> dict[int, Organisation]:
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}


def _time(moment: datetime | None) -> str | None:
    return rfc3339(aware(moment)) if moment else None


def _listed(message: Message, erased: bool, orgs: dict[int, Organisation]) -> dict:
    recipient = orgs[message.recipient_org_id]
    return {
        "id": message.id,
        "status": message.status,
        "message_type": message.message_type,
        "sender": orgs[message.sender_org_id].oin,
        "recipient": recipient.oin,
        "push": recipient.delivery_url is not None,
        "attempts": message.attempts,
        "next_attempt_at": _time(message.next_attempt_at),
        "last_error": message.last_error,
        "created_at": _time(message.created_at),
        "delivered_at": _time(message.delivered_at),
        "dead_lettered_at": _time(message.dead_lettered_at),
        "payload_erased": bool(erased),
    }
