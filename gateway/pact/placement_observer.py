"""Stopping an escalation at the placement, in the placement report's own transaction
(docs/pact-workflows.md section 5.3).

A :class:`gateway.exchange.observers.SendObserver`: the exchange tells it of every accepted
send inside the transaction that stores the message and its audit event, after monitoring's
:class:`~gateway.monitoring.facts.FactRecorder` (the composition root lists them in that order
and the composite keeps it, R2). A ``homebound_report`` from the reporter of an open
escalation that places the child (``placed_date``) closes it with ``reason: placed``; one of
category ``exemption_5a``/``exemption_other`` closes it with ``reason: exempted``. So the
escalation is closed, audited and the holder's ``homebound_escalation_closed`` stored, or the
send is refused and nothing of it happened.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..exchange.observers import AcceptedSend
from .escalation import EscalationService


class PlacementObserver:
    """Closes the sender's open escalations about the child its homebound report places."""

    def __init__(self, escalations: EscalationService) -> None:
        self.escalations = escalations

    def accepted(self, session: Session, send: AcceptedSend) -> None:
        if send.message_type != "homebound_report":
            return
        closed = self.escalations.close_for_report(
            session, send.subject_ref, send.sender_org_id, send.payload, send.at
        )
        if closed:
            self.escalations.publish_gauges_in(session)
