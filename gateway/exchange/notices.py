"""Notices (AVG article 19): inbox items that tell a recipient about data it received.

Two kinds, each an inbox item whose ``message_type`` is the kind (``schemas.vocabulary
.NOTICE_TYPES``), from the operator organisation:

- ``retraction``: the sender retracted an exchange the recipient received; erase your copy and
  confirm (``POST /api/v1/exchanges/{id}/retraction/confirm``).
- ``consent_withdrawn``: a consent the recipient received data under was withdrawn.

A notice is stored as a row of ``messages`` (:func:`~gateway.exchange.generated
.insert_message`), so it is pulled from ``GET /api/v1/inbox``, pushed by the worker,
acknowledged and kept like every other item, and an existing client that lists and
acknowledges its inbox handles it without change. Its ``subject`` is null: the child is named
only by what the recipient already holds (the exchange id it received, the consent id of
its items' ``legal_basis``), never by a new value, so a notice cannot link a child across
organisations and repeats nothing of a message about the wrong child.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.vocabulary import NOTICE_TYPES

from .. import transaction
from ..audit.log import AuditLog, rfc3339
from ..clock import Clock
from ..sealing import Sealer
from ..storage.database import Database
from ..storage.models import Organisation
from .generated import NewMessage, insert_message, message_event
from .models import Message

RETRACTION = "retraction"
CONSENT_WITHDRAWN = "consent_withdrawn"
NOTIFY = "exchange.notify"
NOTICE_RETENTION_DAYS = 90
"""How long an unacknowledged notice is kept (then dead-lettered like any item)."""
LEGAL_BASIS = {
    "type": "legal_obligation",
    "citation": "AVG art. 19 (kennisgeving van rectificatie, wissing of beperking)",
}


def operator(session: Session) -> Organisation | None:
    """The organisation that runs the gateway, the sender of every notice."""
    return session.scalars(
        select(Organisation)
        .where(Organisation.type == "operator")
        .order_by(Organisation.id)
        .limit(1)
    ).first()


def _store(
    session: Session,
    sealer: Sealer,
    audit: AuditLog,
    *,
    kind: str,
    sender: Organisation,
    recipient: Organisation,
    about: Message,
    payload: dict,
    now: datetime,
    consent_id: str | None = None,
) -> str:
    """Write one notice and its ``exchange.notify`` event (the caller holds the audit lock).

    ``about`` is the received message the notice concerns: its purpose and audit subject
    reference (operator-only; partners see a commitment) put the notice in the child's trail.
    """
    notice_id = str(uuid.uuid4())
    row = NewMessage(
        message_type=kind,
        sender_org_id=sender.id,
        recipient_org_id=recipient.id,
        purpose=about.purpose,
        legal_basis=LEGAL_BASIS,
        subject_ref=about.subject_ref,
        fsc_transaction_id=transaction.new(),
        retention_days=NOTICE_RETENTION_DAYS,
        consent_id=consent_id,
    )
    event = message_event(
        NOTIFY,
        notice_id,
        row,
        actor=(sender.oin, None),
        sender=sender.oin,
        recipient=recipient.oin,
        fields_forwarded=list(payload),
    )
    audit.append(session, event, now)
    insert_message(session, sealer, notice_id, row, {"subject": None, "payload": payload}, now)
    return notice_id


def retraction_notice(
    session: Session,
    sealer: Sealer,
    audit: AuditLog,
    message: Message,
    *,
    sender: Organisation,
    recipient: Organisation,
    reason: str,
    erased: bool,
    now: datetime,
) -> str:
    """Tell the recipient of ``message`` that its sender retracted it; returns the notice id.

    ``sender`` is the operator organisation (or, without one, the retracting sender)."""
    payload = {
        "exchange_id": message.id,
        "message_type": message.message_type,
        "reason": reason,
        "retracted_at": rfc3339(now),
        "payload_erased": erased,
        "requested": "erase_and_confirm",
        "confirm": f"/api/v1/exchanges/{message.id}/retraction/confirm",
    }
    return _store(
        session,
        sealer,
        audit,
        kind=RETRACTION,
        sender=sender,
        recipient=recipient,
        about=message,
        payload=payload,
        now=now,
    )


class WithdrawalNotices:
    """``consent_withdrawn`` notices to every organisation that received data under a
    consent, and to nobody else (AVG article 19)."""

    def __init__(self, db: Database, sealer: Sealer, audit: AuditLog, clock: Clock) -> None:
        self.db = db
        self.sealer = sealer
        self.audit = audit
        self.clock = clock

    def consent_withdrawn(
        self, consent_id: str, withdrawn_by_org_id: int | None, withdrawn_at: datetime
    ) -> list[str]:
        """Notify each earlier recipient once; return the new notices' ids.

        The organisation that withdrew is not told (the withdrawal's answer told it). A
        repeated call (a retried withdrawal) adds a notice only for a recipient that has none
        yet, so it completes an interrupted run and never tells anyone twice.
        """
        with self.db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            received = list(
                session.scalars(
                    select(Message)
                    .where(
                        Message.consent_id == consent_id,
                        Message.message_type.not_in(NOTICE_TYPES),
                    )
                    .order_by(Message.seq)
                )
            )
            told = set(
                session.scalars(
                    select(Message.recipient_org_id).where(
                        Message.consent_id == consent_id,
                        Message.message_type == CONSENT_WITHDRAWN,
                    )
                )
            )
            by_recipient: dict[int, list[Message]] = {}
            for message in received:
                by_recipient.setdefault(message.recipient_org_id, []).append(message)
            targets = [
                org_id
                for org_id in by_recipient
                if org_id not in told and org_id != withdrawn_by_org_id
            ]
            if not targets:
                return []
            orgs = {
                org.id: org
                for org in session.scalars(
                    select(Organisation).where(
                        Organisation.id.in_([*targets, withdrawn_by_org_id or 0])
                    )
                )
            }
            sender = operator(session) or orgs.get(withdrawn_by_org_id)
            if sender is None:
                return []
            now = self.clock()
            ids = []
            for org_id in targets:
                messages = by_recipient[org_id]
                payload = {
                    "consent_id": consent_id,
                    "withdrawn_at": rfc3339(withdrawn_at),
                    "exchange_ids": [m.id for m in messages],
                    "requested": "stop_processing_under_consent",
                }
                ids.append(
                    _store(
                        session,
                        self.sealer,
                        self.audit,
                        kind=CONSENT_WITHDRAWN,
                        sender=sender,
                        recipient=orgs[org_id],
                        about=messages[-1],
                        payload=payload,
                        now=now,
                        consent_id=consent_id,
                    )
                )
            return ids
