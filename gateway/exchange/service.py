"""The exchange service: send, status, inbox and acknowledgement, over plain Python.

HTTP handlers call these methods and render what they return; a :class:`Refusal` is a
problem the one error handler answers. Every send decision, allowed or refused, is an audit
event; an allowed send stores the message and its audit event in one transaction, together
with what the :class:`~gateway.exchange.observers.SendObserver` records (monitoring's facts).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent.interfaces import ConsentChecker
from pseudonymise import DomainPseudonymiser

from .. import metrics, telemetry
from ..audit.log import AuditEvent, AuditLog, rfc3339
from ..clock import Clock, local_date
from ..clock import aware as _aware
from ..paging import Cursors
from ..pep.subjects import PolymorphicSubjects, SubjectResolver
from ..processing import ids as activities
from ..sealing import Sealer
from ..storage import direct
from ..storage.database import Database
from ..storage.models import Organisation
from . import correlation, idempotency, pipeline
from .errors import ExchangeNotFound, ExchangeRetracted, Refusal
from .generated import NewMessage, insert_message, message_event
from .items import inbox_item
from .models import Message
from .observers import AcceptedSend, NoObserver, SendObserver
from .routes import RoutePolicies

CURSORS = Cursors("s")
"""Cursors of the inbox."""


class ExchangeService:
    def __init__(
        self,
        db: Database,
        pseudonymiser: DomainPseudonymiser,
        consent: ConsentChecker,
        sealer: Sealer,
        audit: AuditLog,
        clock: Clock,
        timezone: str = "Europe/Amsterdam",
        polymorphic: PolymorphicSubjects | None = None,
        observer: SendObserver | None = None,
    ) -> None:
        self.db = db
        self.polymorphic = polymorphic or PolymorphicSubjects.unavailable()
        self.subjects = SubjectResolver(pseudonymiser, self.polymorphic, pipeline.AUDIT_DOMAIN)
        self.routes = RoutePolicies()
        self.pseudonymiser = pseudonymiser
        self.consent = consent
        self.sealer = sealer
        self.audit = audit
        self.clock = clock
        self.timezone = timezone
        self.observer = observer or NoObserver()

    # sending -------------------------------------------------------------------------------
    def send(
        self,
        caller,
        read_body: Callable[[], object],
        key_header: str | None,
        fsc_transaction_id: str,
    ) -> dict:
        """Run every check of API.md section 4 from the scope on; return the 202 answer or
        raise the refusal. Every refusal, whichever step made it (the scope, the body as
        ``read_body`` reads it, the key, the pipeline, the store), is audited here and only
        here."""
        exchange = self._exchange(caller, key_header, fsc_transaction_id)
        trace = telemetry.current()
        if trace is not None:
            trace.processing = "exchange.send"
        try:
            # the checks only read, each statement on its own (READ COMMITTED on PostgreSQL
            # gave them no common snapshot before either): no BEGIN/ROLLBACK round trips; the
            # store's own transaction and constraints decide what is written (issue 23)
            with self.db.read_session() as session:
                pipeline.run(exchange, self._context(session, read_body))
            if trace is not None:
                trace.activity = _activity(exchange)
            if exchange.replay is not None:
                # an answer stored before role addresses existed lacks the member
                return {
                    **exchange.replay,
                    "recipient_address": exchange.replay.get("recipient_address"),
                }
            return self._store(exchange)
        except Refusal as refusal:
            self._refused(exchange, refusal)
            raise

    def _exchange(self, caller, key_header: str | None, fsc_transaction_id: str):
        now = self.clock()
        return pipeline.Exchange(
            sender=pipeline.OrgRef(
                caller.org_id, caller.org_oin, caller.org_type, caller.org_name, "active"
            ),
            sender_client_id=caller.client_id,
            fsc_transaction_id=fsc_transaction_id,
            now=now,
            today=local_date(now, self.timezone),
            scopes=frozenset(caller.scopes),
            key_header=key_header,
        )

    def _context(self, session: Session, read_body: Callable[[], object]):
        return pipeline.PipelineContext(
            session,
            self.routes,
            self.pseudonymiser,
            self.consent,
            self.polymorphic,
            read_body=read_body,
            keyring=self.sealer.keyring,
        )

    def _store(self, exchange: pipeline.Exchange, retried: bool = False) -> dict:
        """The last step: store the message in a transaction of its own, once more after a
        concurrent request stored first (:meth:`_after_conflict`)."""
        message_id = str(uuid.uuid4())
        try:
            # the transaction's writes go to PostgreSQL as one statement (direct.joined)
            with self.db.write_session() as session, direct.joined(session):
                answer = self._write(session, exchange, message_id)
        except IntegrityError:
            # a concurrent request stored first: its idempotency key, or its transaction id
            answer = self._after_conflict(exchange)
            if answer is not None:
                return answer
            if retried:
                raise
            return self._store(exchange, retried=True)
        self._count(exchange, "allowed", "none")
        return answer

    def _write(self, session: Session, exchange: pipeline.Exchange, message_id: str) -> dict:
        """One transaction: the audit event, the transaction id's recipient, the message, what
        the observer records and the idempotency record with the 202 answer."""
        event = self._allowed_event(exchange, message_id)
        receipt = self.audit.append(session, event, exchange.now)
        if not exchange.transaction_bound:
            correlation.bind(
                session,
                exchange.sender.id,
                exchange.fsc_transaction_id,
                exchange.recipient.id,
                exchange.now,
            )
        content = {"subject": exchange.delivered_subject, "payload": exchange.minimised.payload}
        pep = (
            (self.polymorphic.seal_link(message_id, exchange.pep.link), exchange.pep_delivered)
            if exchange.pep
            else (None, exchange.pep_delivered)
        )
        insert_message(
            session, self.sealer, message_id, new_message(exchange), content, exchange.now, pep
        )
        self.observer.accepted(session, accepted_send(exchange, message_id))
        telemetry.injected_fault("exchange.send")  # GATEWAY_TEST_FAULTS only
        answer = {
            "id": message_id,
            "status": "accepted",
            "message_type": exchange.message_type,
            "recipient": exchange.recipient.oin,
            # the role address as sent (or null): stored with the idempotent answer, so a
            # replay after a registry change answers the first resolution, never a new one
            "recipient_address": exchange.recipient_address,
            "created_at": rfc3339(exchange.now),
            "audit": {"seq": receipt.seq, "hash": receipt.hash},
        }
        idempotency.remember(
            session,
            exchange.sender.id,
            exchange.idempotency_key,
            exchange.request_hash,
            answer,
            exchange.now,
        )
        return answer

    @staticmethod
    def _allowed_event(exchange: pipeline.Exchange, message_id: str) -> AuditEvent:
        minimised = exchange.minimised
        event = message_event(
            "exchange.send",
            message_id,
            new_message(exchange),
            actor=(exchange.sender.oin, exchange.sender_client_id),
            sender=exchange.sender.oin,
            recipient=exchange.recipient.oin,
            fields_forwarded=list(minimised.fields_forwarded),
            fields_dropped=list(minimised.fields_dropped),
            fields_generalised=list(minimised.fields_generalised),
            steps=pipeline.steps(exchange, stored=True),
            **pipeline.subject_naming(exchange, accepted=True),
        )
        event.activity = _activity(exchange)
        return event

    def _after_conflict(self, exchange: pipeline.Exchange) -> dict | None:
        """What a send answers when a concurrent request stored first (``IntegrityError``).

        The same idempotency key and body: the stored answer. The same transaction id for
        another recipient: 409 ``transaction_id_reused`` (audited as every refusal, by
        :meth:`send`). Otherwise None: store once more (the id, if bound, is bound to this
        recipient, and a binding never changes).
        """
        with self.db.session() as session:
            answer = idempotency.stored_answer(
                session,
                exchange.sender.id,
                exchange.idempotency_key,
                exchange.request_hash,
                self.clock(),
            )
            bound = correlation.bound_recipient(
                session, exchange.sender.id, exchange.fsc_transaction_id
            )
        if answer is None and bound is not None and bound != exchange.recipient.id:
            raise correlation.reused()
        # bound to this recipient meanwhile: the second store binds it no more
        exchange.transaction_bound = bound == exchange.recipient.id
        return answer

    def _refused(self, exchange: pipeline.Exchange, refusal: Refusal) -> None:
        # a role address names a recipient only once resolved (an unresolved or ambiguous
        # address is refused with recipient null: no organisation hears of it)
        recipient = exchange.recipient_oin or (
            exchange.recipient.oin if exchange.recipient is not None else None
        )
        route = exchange.route
        subject_ref = pipeline.best_effort_subject_ref(exchange, self.subjects)
        event = AuditEvent(
            action="exchange.send",
            decision="denied",
            reason=refusal.code,
            actor_org=exchange.sender.oin,
            actor_client_id=exchange.sender_client_id,
            message_type=exchange.message_type or _known_type(exchange.body),
            sender=exchange.sender.oin,
            recipient=recipient
            if recipient and len(recipient) == 20 and recipient.isdigit() and recipient.isascii()
            else None,
            purpose=route.purpose if route else None,
            legal_basis=route.legal_basis(None) if route else None,
            subject_ref=subject_ref,
            fsc_transaction_id=exchange.fsc_transaction_id,
            steps=pipeline.steps(exchange),
            **(pipeline.subject_naming(exchange, accepted=False) if subject_ref else {}),
            activity=_activity(exchange),
        )
        with self.db.write_session() as session:
            self.audit.append(session, event, exchange.now)
        self._count(exchange, "denied", refusal.code)

    @staticmethod
    def _count(exchange: pipeline.Exchange, decision: str, code: str) -> None:
        count_send(exchange, decision, code)

    # reading -------------------------------------------------------------------------------
    def retention_days(self) -> dict[tuple[str, str, str], int]:
        """Payload retention per route, as the route policies say now."""
        with self.db.session() as session:
            return self.routes.retention_days(session)

    def status(self, caller, exchange_id: str) -> dict:
        """Metadata for the sender or the recipient; anyone else gets ``not_found``."""
        with self.db.session() as session:
            message = session.scalars(select(Message).where(Message.id == exchange_id)).first()
            if message is None or caller.org_id not in (
                message.sender_org_id,
                message.recipient_org_id,
            ):
                raise ExchangeNotFound("No exchange with this id.")
            oins = _oins(session, {message.sender_org_id, message.recipient_org_id})
            return {
                "id": message.id,
                "message_type": message.message_type,
                "sender": oins[message.sender_org_id],
                "recipient": oins[message.recipient_org_id],
                "status": message.status,
                "created_at": rfc3339(_aware(message.created_at)),
                "delivered_at": _time(message.delivered_at),
                "acknowledged_at": _time(message.acknowledged_at),
            }

    def inbox(self, caller, cursor: str | None, limit: int) -> dict:
        """Unacknowledged items, oldest first; listing an item marks it ``delivered``."""
        after = CURSORS.decode(cursor)
        now = self.clock()
        rows = self._unacknowledged(caller.org_id, after, limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
        delivered = self._deliver(caller, rows, now)
        senders = delivered.senders
        return {
            "items": [
                self._item(message, senders[message.sender_org_id])
                for message in rows
                if message.id not in delivered.withheld
            ],
            "next_cursor": CURSORS.encode(rows[-1].seq) if more and rows else None,
        }

    def _unacknowledged(self, org_id: int, after: int, limit: int) -> list[Message]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Message)
                    .where(
                        Message.recipient_org_id == org_id,
                        Message.status.in_(("accepted", "delivered")),
                        Message.seq > after,
                    )
                    .order_by(Message.seq)
                    .limit(limit)
                )
            )

    def _deliver(self, caller, rows: list[Message], now: datetime) -> _Delivered:
        """Mark the ``accepted`` rows ``delivered``, each with its audit event; return the
        senders of all rows by organisation id, and the rows not to serve.

        The rows were read in an earlier transaction: a retraction or an acknowledgement may
        have committed since. So a row is marked only by an ``UPDATE`` that still finds it
        ``accepted`` (never by merging the stale copy, which would restore an erased payload
        and undo the retraction), and a row that is no longer waiting is withheld."""
        senders: dict[int, dict] = {}
        if not rows:
            return _Delivered(senders, frozenset())
        with self.db.write_session() as session:
            if any(m.status == "accepted" for m in rows):
                session.execute(AuditLog.LOCK_HEAD)
            ids = {m.sender_org_id for m in rows}
            for org in session.scalars(select(Organisation).where(Organisation.id.in_(ids))):
                senders[org.id] = {"oin": org.oin, "name": org.name, "type": org.type}
            current = dict(
                session.execute(
                    select(Message.id, Message.status).where(Message.id.in_([m.id for m in rows]))
                ).all()
            )
            withheld = frozenset(
                m.id for m in rows if current.get(m.id) not in ("accepted", "delivered")
            )
            for message in rows:
                if message.status != "accepted" or current.get(message.id) != "accepted":
                    continue
                marked = session.execute(
                    update(Message)
                    .where(Message.id == message.id, Message.status == "accepted")
                    .values(status="delivered", delivered_at=now)
                ).rowcount
                if marked == 1:
                    sender_oin = senders[message.sender_org_id]["oin"]
                    event = self._deliver_event(caller, message, sender_oin, "exchange.deliver")
                    self.audit.append(session, event, now)
                    message.status = "delivered"
                    message.delivered_at = now
        return _Delivered(senders, withheld)

    def _item(self, message: Message, sender: dict) -> dict:
        content = self.sealer.open(message.id, message.key_version, message.ciphertext)
        return inbox_item(message, sender, content)

    @staticmethod
    def _deliver_event(caller, message: Message, sender_oin: str, action: str) -> AuditEvent:
        """The recipient took the message (``exchange.deliver``, ``exchange.ack``)."""
        return message_event(
            action,
            message.id,
            message,
            actor=(caller.org_oin, caller.client_id),
            sender=sender_oin,
            recipient=caller.org_oin,
        )

    def ack(self, caller, exchange_id: str) -> dict:
        """Acknowledge receipt: idempotent; the stored payload is erased, metadata remains."""
        now = self.clock()
        with self.db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            message = session.scalars(
                select(Message).where(
                    Message.id == exchange_id, Message.recipient_org_id == caller.org_id
                )
            ).first()
            if message is None:
                raise ExchangeNotFound("No exchange with this id in your inbox.")
            if message.status == "retracted":
                # its sender took it back: the retraction notice asks to erase and confirm
                raise ExchangeRetracted(
                    "The sender retracted this exchange; confirm its erasure instead."
                )
            if message.status != "acknowledged":
                sender_oin = _oins(session, {message.sender_org_id})[message.sender_org_id]
                event = self._deliver_event(caller, message, sender_oin, "exchange.ack")
                self.audit.append(session, event, now)
                message.status = "acknowledged"
                message.acknowledged_at = now
                message.delivered_at = message.delivered_at or now
                message.ciphertext = None
            return {
                "id": message.id,
                "status": "acknowledged",
                "acknowledged_at": rfc3339(_aware(message.acknowledged_at)),
            }


@dataclass(frozen=True)
class _Delivered:
    """What :meth:`ExchangeService._deliver` found: senders by organisation id, and the ids
    of rows that stopped waiting since they were read (retracted, acknowledged)."""

    senders: dict[int, dict]
    withheld: frozenset[str]


def new_message(exchange: pipeline.Exchange) -> NewMessage:
    """The stored metadata of a message the pipeline passed (a send's, a case's)."""
    return NewMessage(
        message_type=exchange.message_type,
        sender_org_id=exchange.sender.id,
        recipient_org_id=exchange.recipient.id,
        purpose=exchange.route.purpose,
        legal_basis=exchange.route.legal_basis(exchange.consent_id),
        subject_ref=exchange.subject_ref,
        fsc_transaction_id=exchange.fsc_transaction_id,
        retention_days=exchange.route.retention_days,
        sender_client_id=exchange.sender_client_id,
        consent_id=exchange.consent_id,
        recipient_address=exchange.recipient_address,
    )


def accepted_send(exchange: pipeline.Exchange, message_id: str) -> AcceptedSend:
    """What the observer is told of a stored message (a send's, a case's)."""
    return AcceptedSend(
        message_id=message_id,
        message_type=exchange.message_type,
        payload=exchange.payload,
        subject_ref=exchange.subject_ref,
        sender_org_id=exchange.sender.id,
        recipient_org_id=exchange.recipient.id,
        at=exchange.now,
    )


def count_send(exchange: pipeline.Exchange, decision: str, code: str) -> None:
    """The exchange metric of one decision on one message (a send's, a case's)."""
    metrics.EXCHANGES.labels(
        exchange.message_type or _known_type(exchange.body) or "unknown",
        exchange.sender.type,
        exchange.recipient.type if exchange.recipient else "unknown",
        decision,
        code,
    ).inc()


def _known_type(body) -> str | None:
    from schemas.vocabulary import MESSAGE_TYPES

    value = body.get("message_type") if isinstance(body, dict) else None
    return value if value in MESSAGE_TYPES else None


def _oins(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(Organisation.id, Organisation.oin).where(Organisation.id.in_(ids))
    )
    return dict(rows.all())


def _time(moment: datetime | None) -> str | None:
    return rfc3339(_aware(moment)) if moment else None


def _activity(exchange: pipeline.Exchange) -> str | None:
    """The register's id of the send's processing activity, once its route is known (the
    Logboek record's ``dpl.core.processing_activity_id``)."""
    route = exchange.route
    if route is None:
        return None
    return activities.route_activity_id(
        route.purpose, route.message_type, route.sender_type, route.recipient_type
    )
