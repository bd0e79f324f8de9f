"""The advisers' answers on an exemption case (design 4.1 step 3), seen from the exchange.

An adviser answers with an ordinary ``POST /api/v1/exchanges`` (``exemption_medical_advice``
or ``exemption_education_advice``, ``in_reply_to`` the request it received). This observer,
one of the exchange's :class:`~gateway.exchange.observers.CompositeObserver`, runs in that
send's transaction: when ``in_reply_to`` is an open request of an exemption case to that very
adviser, the adviser becomes ``answered``, the outcome (a code, never text) is stored on the
case for leerplicht's view and the indicators, the case is ``advised`` once every adviser
answered, and the send's audit event gets the case's index (``audit_events.case_id``, not
hashed). Any other answer is an ordinary send and the case is untouched: a second answer, an
answer after the decision, a reply to something else.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..audit.models import AuditEventRow
from ..exchange.observers import AcceptedSend
from .models import PactCase, PactParticipant

OUTCOME = {
    "exemption_medical_advice": ("advice_medical", "advice"),
    "exemption_education_advice": ("advice_education", "arrangement"),
}
"""Per answer type: the case column it fills and the payload field it takes."""


class AdviceObserver:
    def accepted(self, session: Session, send: AcceptedSend) -> None:
        if send.message_type not in OUTCOME:
            return
        row = session.execute(
            select(PactCase, PactParticipant)
            .join(PactParticipant, PactParticipant.case_id == PactCase.id)
            .where(
                PactParticipant.invitation_exchange_id == send.payload.get("in_reply_to"),
                PactParticipant.org_id == send.sender_org_id,
                PactParticipant.role == "adviser",
                PactParticipant.status == "invited",
                PactCase.kind == "exemption_advice",
                PactCase.status.in_(("requested", "advised")),
            )
        ).first()
        if row is None:
            return
        case, adviser = row
        column, field = OUTCOME[send.message_type]
        adviser.status = "answered"
        adviser.responded_at = send.at
        adviser.answer_exchange_id = send.message_id
        setattr(case, column, send.payload[field])
        case.updated_at = send.at
        waiting = session.scalar(
            select(PactParticipant.id).where(
                PactParticipant.case_id == case.id,
                PactParticipant.role == "adviser",
                PactParticipant.status == "invited",
                PactParticipant.id != adviser.id,
            )
        )
        if waiting is None:
            case.status = "advised"
        session.execute(
            update(AuditEventRow)
            .where(
                AuditEventRow.exchange_id == send.message_id,
                AuditEventRow.action == "exchange.send",
            )
            .values(case_id=case.id)
        )
        session.flush()
