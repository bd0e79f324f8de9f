"""Audit events of push delivery (API.md section 8).

A push is done by the gateway itself, so the actor is the operator organisation with null
client and user; the event otherwise repeats the original send's metadata (never payload),
including its ``fsc_transaction_id``. A dead letter is recorded as ``denied`` with reason
``delivery_failed``, like the retention purge's ``retention_expired``: the message did not
reach its recipient.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.log import AuditEvent
from ..storage.models import Organisation

DELIVER = "exchange.deliver"
DEAD_LETTER = "exchange.dead_letter"
RETRY = "admin.outbox.retry"
DELIVERY_FAILED = "delivery_failed"


def operator_oin(session: Session) -> str | None:
    """The OIN of the organisation that runs the gateway (the first, should there be more)."""
    return session.scalars(
        select(Organisation.oin)
        .where(Organisation.type == "operator")
        .order_by(Organisation.id)
        .limit(1)
    ).first()


def message_event(
    action: str, message, sender: str, recipient: str, operator: str | None
) -> AuditEvent:
    """An event about ``message`` (a ``Message`` or a claim) done by the operator."""
    dead = action == DEAD_LETTER
    return AuditEvent(
        action=action,
        decision="denied" if dead else "allowed",
        reason=DELIVERY_FAILED if dead else None,
        actor_org=operator,
        exchange_id=message.id,
        message_type=message.message_type,
        sender=sender,
        recipient=recipient,
        purpose=message.purpose,
        legal_basis=message.legal_basis,
        consent_id=message.consent_id,
        subject_ref=message.subject_ref,
        fsc_transaction_id=message.fsc_transaction_id,
    )
