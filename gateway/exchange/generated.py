"""Storing a message the gateway itself generates (sender: the operator organisation).

The same guarantees as a partner's send: the subject is the recipient's own pseudonym, the
payload is sealed at rest, and the message and its audit event are written in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..audit.log import AuditEvent, AuditLog
from ..sealing import Sealer
from .models import Message


@dataclass(frozen=True)
class GeneratedMessage:
    message_type: str
    operator_org_id: int
    operator_oin: str
    recipient_org_id: int
    recipient_oin: str
    subject: dict
    subject_ref: str
    payload: dict
    purpose: str
    legal_basis: dict
    retention_days: int
    fsc_transaction_id: str
    audit_action: str = "exchange.send"


def store_generated(
    session: Session,
    sealer: Sealer,
    audit: AuditLog,
    message: GeneratedMessage,
    now: datetime,
) -> str:
    """Write the message and its audit event; the caller's transaction must already hold the
    audit lock (``AuditLog.LOCK_HEAD``) if it read anything first. Returns the message id."""
    message_id = str(uuid.uuid4())
    version, sealed = sealer.seal(
        message_id, {"subject": message.subject, "payload": message.payload}
    )
    audit.append(
        session,
        AuditEvent(
            action=message.audit_action,
            decision="allowed",
            actor_org=message.operator_oin,
            exchange_id=message_id,
            message_type=message.message_type,
            sender=message.operator_oin,
            recipient=message.recipient_oin,
            purpose=message.purpose,
            legal_basis=message.legal_basis,
            fields_forwarded=list(message.payload),
            subject_ref=message.subject_ref,
            fsc_transaction_id=message.fsc_transaction_id,
        ),
        now,
    )
    session.execute(
        insert(Message),
        {
            "id": message_id,
            "message_type": message.message_type,
            "sender_org_id": message.operator_org_id,
            "recipient_org_id": message.recipient_org_id,
            "sender_client_id": None,
            "purpose": message.purpose,
            "legal_basis": message.legal_basis,
            "consent_id": None,
            "subject_ref": message.subject_ref,
            "status": "accepted",
            "created_at": now,
            "fsc_transaction_id": message.fsc_transaction_id,
            "key_version": version,
            "ciphertext": sealed,
            "retain_until": now + timedelta(days=message.retention_days),
        },
    )
    return message_id
