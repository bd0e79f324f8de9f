"""Retraction and correction of exchanges (issue 19; AVG articles 16, 17 and 19).

A sender takes back an exchange it sent, with a reason code. In one transaction:

- the exchange becomes ``retracted``; if its recipient had not acknowledged it, the stored
  payload (and the polymorphic tag and ciphertext) is erased, so the message leaves the inbox
  and the push outbox (which only claim ``accepted``/``delivered`` rows) and cannot be
  delivered afterwards;
- the recipient gets a ``retraction`` notice (:mod:`gateway.exchange.notices`) either way,
  naming only the exchange id it received, with the request to erase its copy and confirm;
- ``exchange.retract`` is audited on the exchange, ``exchange.notify`` on the notice, and for
  a correction ``exchange.correct`` on the correcting exchange, its ``reason`` naming the
  corrected one (``corrects:<id>``);
- a :class:`~gateway.exchange.models.Retraction` row keeps the breach register's entry.

Only the sending organisation may retract: anyone else gets ``not_found``, exactly as for an
id that does not exist (API.md section 13). A repeated retraction answers the stored one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.retraction import load_retraction
from schemas.vocabulary import GATEWAY_MESSAGE_TYPES, NOTICE_TYPES

from ..audit.log import AuditLog, rfc3339
from ..clock import Clock
from ..clock import aware as _aware
from ..sealing import Sealer
from ..storage.database import Database
from ..storage.models import Organisation
from . import notices
from .errors import ExchangeNotFound, NotRetractable, RetractionConflict, UnknownReference
from .generated import message_event
from .models import Message, Retraction

REPORTING_WINDOW = timedelta(hours=72)
"""AVG article 33: a breach is reported to the Autoriteit Persoonsgegevens within 72 hours of
becoming aware of it; the register shows the deadline counted from the retraction."""
RETRACT = "exchange.retract"
CONFIRM = "exchange.retraction_confirm"
CORRECT = "exchange.correct"


class RetractionService:
    def __init__(self, db: Database, sealer: Sealer, audit: AuditLog, clock: Clock) -> None:
        self.db = db
        self.sealer = sealer
        self.audit = audit
        self.clock = clock

    # the sender ----------------------------------------------------------------------------
    def retract(self, caller, exchange_id: str, body: dict) -> tuple[dict, bool]:
        """Retract the caller's own exchange; return (answer, created)."""
        loaded = load_retraction(body)
        now = self.clock()
        with self.db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            message = self._sent(session, caller, exchange_id)
            stored = session.scalars(
                select(Retraction).where(Retraction.exchange_id == message.id)
            ).first()
            if stored is not None:
                self._link_later(session, caller, stored, message, loaded.get("corrected_by"), now)
                return self._answer(stored), False
            if message.message_type in NOTICE_TYPES + GATEWAY_MESSAGE_TYPES:
                raise NotRetractable("Only an exchange your organisation sent can be retracted.")
            correction = self._correction(session, caller, message, loaded.get("corrected_by"))
            retraction = self._retract(session, caller, message, loaded, now)
            if correction is not None:
                self._correct(session, caller, retraction, correction, now)
            session.flush()
            return self._answer(retraction), True

    def _sent(self, session: Session, caller, exchange_id: str) -> Message:
        message = session.scalars(
            select(Message).where(Message.id == exchange_id, Message.sender_org_id == caller.org_id)
        ).first()
        if message is None:
            raise ExchangeNotFound("No exchange with this id.")
        return message

    def _correction(
        self, session: Session, caller, message: Message, corrected_by: str | None
    ) -> Message | None:
        """The caller's own, unretracted exchange that corrects ``message``; a wrong id is
        ``unknown_reference`` (an id of another organisation's exchange is answered alike)."""
        if corrected_by is None:
            return None
        correction = session.scalars(
            select(Message).where(
                Message.id == corrected_by, Message.sender_org_id == caller.org_id
            )
        ).first()
        if (
            correction is None
            or correction.id == message.id
            or correction.status == "retracted"
            or correction.message_type in NOTICE_TYPES + GATEWAY_MESSAGE_TYPES
        ):
            raise UnknownReference(
                "corrected_by must name another exchange your organisation sent.",
                errors={"corrected_by": ["Not an exchange your organisation sent."]},
            )
        return correction

    def _retract(
        self, session: Session, caller, message: Message, loaded: dict, now: datetime
    ) -> Retraction:
        status = message.status
        erased = status != "acknowledged"
        orgs = _orgs(session, {message.sender_org_id, message.recipient_org_id})
        sender, recipient = orgs[message.sender_org_id], orgs[message.recipient_org_id]
        event = message_event(  # the log gives it the send's naming index (FOLLOW_UPS)
            RETRACT,
            message.id,
            message,
            actor=(caller.org_oin, caller.client_id),
            sender=sender.oin,
            recipient=recipient.oin,
            reason=loaded["reason"],
        )
        receipt = self.audit.append(session, event, now)
        # erase first, so nothing below can read or push the payload
        message.status = "retracted"
        message.lease_token = None
        message.next_attempt_at = None
        if erased:
            message.ciphertext = None
            message.pep_link = message.pep_delivered = None
        notice_sender = notices.operator(session) or sender
        notice_id = notices.retraction_notice(
            session,
            self.sealer,
            self.audit,
            message,
            sender=notice_sender,
            recipient=recipient,
            reason=loaded["reason"],
            erased=erased,
            now=now,
        )
        retraction = Retraction(
            exchange_id=message.id,
            message_type=message.message_type,
            sender_org_id=message.sender_org_id,
            recipient_org_id=message.recipient_org_id,
            reason=loaded["reason"],
            remarks=loaded.get("remarks"),
            retracted_at=now,
            retracted_by_client_id=caller.client_id,
            recipient_status=status,
            payload_erased=erased,
            notice_id=notice_id,
            audit_seq=receipt.seq,
            audit_hash=receipt.hash,
        )
        session.add(retraction)
        return retraction

    def _correct(
        self, session: Session, caller, retraction: Retraction, correction: Message, now
    ) -> None:
        """Link the correcting exchange in the audit log: ``exchange.correct`` on it, whose
        ``reason`` names the corrected exchange."""
        orgs = _orgs(session, {correction.sender_org_id, correction.recipient_org_id})
        event = message_event(
            CORRECT,
            correction.id,
            correction,
            actor=(caller.org_oin, caller.client_id),
            sender=orgs[correction.sender_org_id].oin,
            recipient=orgs[correction.recipient_org_id].oin,
            reason=f"corrects:{retraction.exchange_id}",
        )
        self.audit.append(session, event, now)
        retraction.corrected_by = correction.id

    def _link_later(
        self,
        session: Session,
        caller,
        stored: Retraction,
        message: Message,
        corrected_by: str | None,
        now: datetime,
    ) -> None:
        """A repeated retraction: the same answer; it may name the correction if the first
        did not (retract at once, send the correction later)."""
        if corrected_by is None or corrected_by == stored.corrected_by:
            return
        if stored.corrected_by is not None:
            raise RetractionConflict("This retraction already names another correction.")
        correction = self._correction(session, caller, message, corrected_by)
        self._correct(session, caller, stored, correction, now)

    # the recipient -------------------------------------------------------------------------
    def confirm(self, caller, exchange_id: str) -> dict:
        """The recipient confirms it erased its copy: idempotent, audited once."""
        now = self.clock()
        with self.db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            retraction = session.scalars(
                select(Retraction).where(
                    Retraction.exchange_id == exchange_id,
                    Retraction.recipient_org_id == caller.org_id,
                )
            ).first()
            if retraction is None:
                raise ExchangeNotFound("No retracted exchange with this id in your inbox.")
            if retraction.confirmed_at is None:
                message = session.scalars(select(Message).where(Message.id == exchange_id)).one()
                sender = _orgs(session, {message.sender_org_id})[message.sender_org_id]
                event = message_event(  # named like the send, by the log (FOLLOW_UPS)
                    CONFIRM,
                    message.id,
                    message,
                    actor=(caller.org_oin, caller.client_id),
                    sender=sender.oin,
                    recipient=caller.org_oin,
                )
                self.audit.append(session, event, now)
                retraction.confirmed_at = now
                retraction.confirmed_by_client_id = caller.client_id
            return {
                "exchange_id": retraction.exchange_id,
                "status": "confirmed",
                "confirmed_at": rfc3339(_aware(retraction.confirmed_at)),
            }

    # either side -------------------------------------------------------------------------
    def get(self, caller, exchange_id: str) -> dict:
        """The retraction of an exchange, for its sender or its recipient only."""
        with self.db.session() as session:
            retraction = session.scalars(
                select(Retraction).where(Retraction.exchange_id == exchange_id)
            ).first()
            if retraction is None or caller.org_id not in (
                retraction.sender_org_id,
                retraction.recipient_org_id,
            ):
                raise ExchangeNotFound("No retracted exchange with this id.")
            return self._answer(retraction)

    @staticmethod
    def _answer(retraction: Retraction) -> dict:
        """The API's view; ``remarks`` stay with the operator's privacy officer."""
        return {
            "exchange_id": retraction.exchange_id,
            "status": "retracted",
            "reason": retraction.reason,
            "retracted_at": rfc3339(_aware(retraction.retracted_at)),
            "recipient_status": retraction.recipient_status,
            "payload_erased": retraction.payload_erased,
            "corrected_by": retraction.corrected_by,
            "confirmed_at": rfc3339(_aware(retraction.confirmed_at))
            if retraction.confirmed_at
            else None,
            "audit": {"seq": retraction.audit_seq, "hash": retraction.audit_hash},
        }

    # the operator's privacy officer ----------------------------------------------------------
    def register(self, limit: int = 200) -> list[dict]:
        """The breach register: every retraction, open ones (unconfirmed) first, newest
        first within each; one entry per exchange, so always one child."""
        with self.db.session() as session:
            rows = list(
                session.scalars(
                    select(Retraction)
                    .order_by(Retraction.confirmed_at.is_not(None), Retraction.retracted_at.desc())
                    .limit(limit)
                )
            )
            ids = {r.sender_org_id for r in rows} | {r.recipient_org_id for r in rows}
            orgs = _orgs(session, ids) if ids else {}
            sent = dict(
                session.execute(
                    select(Message.id, Message.created_at).where(
                        Message.id.in_([r.exchange_id for r in rows])
                    )
                ).all()
            )
        return [_entry(r, orgs, sent.get(r.exchange_id)) for r in rows]


def _entry(retraction: Retraction, orgs: dict[int, Organisation], sent_at) -> dict:
    retracted_at = _aware(retraction.retracted_at)
    sender, recipient = orgs[retraction.sender_org_id], orgs[retraction.recipient_org_id]
    return {
        "exchange_id": retraction.exchange_id,
        "message_type": retraction.message_type,
        "reason": retraction.reason,
        "remarks": retraction.remarks,
        "sender": {"oin": sender.oin, "name": sender.name},
        "recipient": {"oin": recipient.oin, "name": recipient.name},
        "sent_at": _aware(sent_at) if sent_at else None,
        "retracted_at": retracted_at,
        "report_deadline": retracted_at + REPORTING_WINDOW,
        "children": 1,
        "recipient_status": retraction.recipient_status,
        "recipient_had_it": retraction.recipient_status in ("delivered", "acknowledged"),
        "payload_erased": retraction.payload_erased,
        "corrected_by": retraction.corrected_by,
        "confirmed_at": _aware(retraction.confirmed_at) if retraction.confirmed_at else None,
    }


def _orgs(session: Session, ids: set[int]) -> dict[int, Organisation]:
    return {
        org.id: org for org in session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
    }
