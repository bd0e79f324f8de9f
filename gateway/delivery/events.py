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
from ..exchange.generated import message_event as exchange_message_event
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
    return exchange_message_event(
        action,
        message.id,
        message,
        actor=(operator, None),
        sender=sender,
        recipient=recipient,
        decision="denied" if dead else "allowed",
        reason=DELIVERY_FAILED if dead else None,
    )
