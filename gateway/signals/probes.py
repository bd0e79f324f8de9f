"""A signal opened and closed again with nothing done about the child: a possible probe.

Opening a signal tells an organisation at once who else has one on that child; closing it
right after leaves little trace. API.md section 13 rule 5 counts such a signal (metric and
alert) as a possible probe. The test is the signalling organisation's own activity: an
exchange about the child that it sent or received between the opening and the closing
clears the signal. Exchanges between other organisations do not: a child many
organisations already talk about would otherwise hide every probe of it. Messages the
gateway itself generates (``signal_match``, ``homebound_alert``) are what a probe harvests,
not work done about the child, so they do not clear it either; nor do its notices
(``retraction``, ``consent_withdrawn``), which tell of work undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from schemas.vocabulary import GATEWAY_MESSAGE_TYPES, NOTICE_TYPES

from ..exchange.models import Message


def exchanged_since(
    session: Session, org_id: int, audit_refs: Sequence[str], since: datetime
) -> bool:
    """Whether ``org_id`` sent or received an exchange about the child (any of its audit
    pseudonyms) at or after ``since``."""
    if not audit_refs:
        return False
    found = session.scalars(
        select(Message.id)
        .where(
            Message.subject_ref.in_(list(audit_refs)),
            Message.created_at >= since,
            Message.message_type.not_in([*GATEWAY_MESSAGE_TYPES, *NOTICE_TYPES]),
            or_(Message.sender_org_id == org_id, Message.recipient_org_id == org_id),
        )
        .limit(1)
    ).first()
    return found is not None
