"""Storing inbox messages: a partner's send, and those the gateway itself generates.

:func:`insert_message` writes every message (sealed at rest) and :func:`message_event` makes
the audit event of every action on one (send, signal match, delivery, acknowledgement), so a
message column or an audit member is added in one place. A message the gateway generates
(sender: the operator organisation, :func:`store_generated`) has the same guarantees as a
partner's send: the subject is the recipient's own pseudonym, the payload is sealed at rest,
and the message and its audit event are written in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..audit.log import AuditEvent, AuditLog
from ..sealing import Sealer
from ..storage import direct
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
    case_id: str | None = None
    """The pact case the message belongs to (issue 20): written to the audit event's unhashed
    ``case_id`` index, so the operator's pages group a case's messages."""
    consent_id: str | None = None
    """The consent a generated message is sent under (a case reminder of a consultation), so
    the consent's trail and its withdrawal notices see it as every message under it."""


@dataclass(frozen=True)
class NewMessage:
    """The metadata of a message about to be stored (its content is sealed on the way in)."""

    message_type: str
    sender_org_id: int
    recipient_org_id: int
    purpose: str
    legal_basis: dict
    subject_ref: str
    fsc_transaction_id: str
    retention_days: int
    sender_client_id: str | None = None
    consent_id: str | None = None
    recipient_address: str | None = None
    """The role address the sender named (API.md section 4), stored by the message's one insert."""


def insert_message(
    session: Session,
    sealer: Sealer,
    message_id: str,
    message: NewMessage,
    content: dict,
    now: datetime,
    pep: tuple[bytes | None, bytes | None] = (None, None),
) -> None:
    """Write one inbox message, ``accepted``, its ``content`` (subject and payload) sealed.

    Every message is stored here, whoever made it (a partner's send, a signal match, an
    alert); ``pep`` is the sealed link tag and the delivered ciphertext of polymorphic mode.
    """
    version, sealed = sealer.seal(message_id, content)
    pep_link, pep_delivered = pep
    direct.execute(
        session,
        _INSERT_MESSAGE,
        {
            "id": message_id,
            "status": "accepted",
            "created_at": now,
            "key_version": version,
            "ciphertext": sealed,
            "retain_until": now + timedelta(days=message.retention_days),
            "pep_link": pep_link,
            "pep_delivered": pep_delivered,
            **{name: getattr(message, name) for name in _COLUMNS},
        },
    )


_COLUMNS = tuple(name for name in NewMessage.__dataclass_fields__ if name != "retention_days")
_INSERT_MESSAGE = insert(Message.__table__).inline()  # no generated key read back
"""A Core insert on the table, built once (the ORM's bulk-insert path cost about 0.5 ms a
statement on the send path under cProfile, issue 23)."""


def message_event(
    action: str,
    message_id: str,
    message,
    *,
    actor: tuple[str, str | None],
    sender: str,
    recipient: str,
    decision: str = "allowed",
    **details,
) -> AuditEvent:
    """The audit event of ``action`` on one message (a :class:`NewMessage`, a stored
    :class:`Message` or a row with the same fields): what it is about is read from the
    message; ``actor`` is the organisation and client that acted, ``details`` any further
    members (``reason`` of a denial, the fields, the steps)."""
    actor_org, actor_client_id = actor
    return AuditEvent(
        action=action,
        decision=decision,
        actor_org=actor_org,
        actor_client_id=actor_client_id,
        exchange_id=message_id,
        message_type=message.message_type,
        sender=sender,
        recipient=recipient,
        purpose=message.purpose,
        legal_basis=message.legal_basis,
        consent_id=message.consent_id,
        subject_ref=message.subject_ref,
        fsc_transaction_id=message.fsc_transaction_id,
        **details,
    )


def store_generated(
    session: Session,
    sealer: Sealer,
    audit: AuditLog,
    message: GeneratedMessage,
    now: datetime,
) -> str:
    """Write the message and its audit event; the caller's transaction must already hold the
    audit lock (``AuditLog.LOCK_HEAD``) if it read anything first. Returns the message id.
    The operator sends: it is the actor and the sender, with no client."""
    message_id = str(uuid.uuid4())
    row = NewMessage(
        message_type=message.message_type,
        sender_org_id=message.operator_org_id,
        recipient_org_id=message.recipient_org_id,
        purpose=message.purpose,
        legal_basis=message.legal_basis,
        subject_ref=message.subject_ref,
        fsc_transaction_id=message.fsc_transaction_id,
        retention_days=message.retention_days,
        consent_id=message.consent_id,
    )
    event = message_event(
        message.audit_action,
        message_id,
        row,
        actor=(message.operator_oin, None),
        sender=message.operator_oin,
        recipient=message.recipient_oin,
        fields_forwarded=list(message.payload),
        case_id=message.case_id,
    )
    audit.append(session, event, now)
    content = {"subject": message.subject, "payload": message.payload}
    insert_message(session, sealer, message_id, row, content, now)
    return message_id
