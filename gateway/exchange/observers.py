"""What an accepted send tells the areas above the exchange, without the exchange knowing them.

The exchange is on the ``core`` floor; monitoring, which keeps a fact of every report, is
above it. So the exchange owns this small interface and the composition root hands it the
implementation (:class:`gateway.monitoring.facts.FactRecorder`). The observer is called
inside the transaction that stores the message and its audit event: what it writes is
committed with them, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class AcceptedSend:
    """A message the exchange is storing: its validated payload and who it went between."""

    message_id: str
    message_type: str
    payload: dict
    subject_ref: str
    sender_org_id: int
    recipient_org_id: int
    at: datetime


class SendObserver(Protocol):
    def accepted(self, session: Session, send: AcceptedSend) -> None:
        """Record what the send means to the observer, in the send's own transaction."""


class NoObserver:
    """The default: nothing above the exchange is told (unit tests, tools)."""

    def accepted(self, session: Session, send: AcceptedSend) -> None:
        return None


class CompositeObserver:
    """Several observers of one send, told in list order inside the send's transaction.

    The order is the composition root's: an observer that reads what an earlier one wrote
    (the pact's placement observer reads monitoring's fact, design risk R2) comes after it.
    """

    def __init__(self, observers: list[SendObserver]) -> None:
        self.observers = list(observers)

    def accepted(self, session: Session, send: AcceptedSend) -> None:
        for observer in self.observers:
            observer.accepted(session, send)
