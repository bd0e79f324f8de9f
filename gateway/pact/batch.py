"""Sending a case's messages: the pipeline's own steps, several recipients, one transaction.

A case request (open a consultation, record agreements, answer an invitation) makes one
message per recipient. Each is an ordinary exchange (design section 2.4, risk R1): this module
builds one :class:`~gateway.exchange.pipeline.Exchange` per recipient and runs the very
functions of :data:`~gateway.exchange.pipeline.STEPS` from ``recipient`` to ``minimise`` on it
(never a copy of a step), then stores every message with :func:`insert_message` and its
``exchange.send`` event with :func:`message_event`, the transaction id's binding
(:func:`correlation.claim`) and the exchange's observer, all in the caller's one write
transaction: the case's messages are stored all together or not at all.

The request as a whole (scope, body, ``Idempotency-Key``) is checked once, by the case service,
with the pipeline's ``check_scope``/``read_body``/``check_idempotency``. A refusal of one
recipient refuses the whole request: :class:`BatchRefused` carries the recipient's key
(``invite.<n>``, ``advisers.<n>``) so that the one denied event of the case action names it.

Transaction ids (design 3.4, API.md section 13 rule 1): a sender's ``Fsc-Transaction-Id``
reaches one recipient only, so the first message gets the caller's id and every other a fresh
UUIDv7; each is bound to its recipient as a send's is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from schemas.profiles import add_gateway_fields

from .. import transaction
from ..audit.log import AuditReceipt
from ..exchange import correlation, pipeline
from ..exchange.errors import Refusal, ValidationFailed
from ..exchange.generated import insert_message, message_event
from ..exchange.service import ExchangeService, accepted_send, count_send, new_message

FIRST_STEP, LAST_STEP = "recipient", "minimise"
NAMES = [name for name, _ in pipeline.STEPS]
RESOLVE = pipeline.STEPS[NAMES.index(FIRST_STEP) : NAMES.index("transaction_id")]
"""Step 6 alone: which organisation each entry names (the case checks duplicates after it)."""
CHECK = pipeline.STEPS[NAMES.index("transaction_id") : NAMES.index(LAST_STEP) + 1]
"""Steps 7a to the minimisation: transaction id, route, schema, subject, legal basis,
pseudonymisation and minimisation, the same functions a send runs."""


class BatchRefused(Refusal):
    """One recipient's refusal refuses the whole case request; ``key`` names the entry."""

    def __init__(self, refusal: Refusal, key: str | None, send: pipeline.Exchange) -> None:
        errors = refusal.errors
        if key is not None and not isinstance(refusal, ValidationFailed):
            # the payload's and the subject's own errors keep their names (payload.<field>),
            # the same for every recipient; a recipient's refusal is named by its entry
            errors = {key: [refusal.detail or refusal.code]}
        super().__init__(
            refusal.detail,
            code=refusal.code,
            status=refusal.status,
            errors=errors,
            headers=refusal.headers,
        )
        self.title = refusal.title
        self.refusal = refusal
        self.key = key
        self.send = send


@dataclass
class CaseSend:
    """One message of a case request: its entry's key and the body a send would have."""

    key: str | None
    message_type: str
    recipient: str | dict
    subject: dict
    payload: dict
    exchange: pipeline.Exchange | None = None
    gateway_fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Sender:
    """Who sends the case's messages (the caller, or for a late accept the convener)."""

    org: pipeline.OrgRef
    client_id: str | None
    checked: tuple[str, ...] = ("scope", "body")
    """The steps the case request ran once for all its messages (listed in each event)."""


@dataclass(frozen=True)
class Stored:
    message_id: str
    exchange: pipeline.Exchange
    receipt: AuditReceipt


class Batch:
    """Runs the pipeline's steps over several sends and stores them (see the module doc)."""

    def __init__(self, exchanges: ExchangeService) -> None:
        self.exchanges = exchanges

    def context(self, session: Session) -> pipeline.PipelineContext:
        """The pipeline's context over ``session``, built from the exchange service's own
        parts (routes, pseudonymiser, consent checker, polymorphic subjects, keyring)."""
        service = self.exchanges
        return pipeline.PipelineContext(
            session,
            service.routes,
            service.pseudonymiser,
            service.consent,
            service.polymorphic,
            keyring=service.sealer.keyring,
        )

    def exchange(
        self,
        sender: Sender,
        send: CaseSend,
        fsc_transaction_id: str,
        now: datetime,
        today: date,
    ) -> pipeline.Exchange:
        """The :class:`Exchange` of one case message, as if its body had been sent."""
        exchange = pipeline.Exchange(
            sender=sender.org,
            sender_client_id=sender.client_id,
            fsc_transaction_id=fsc_transaction_id,
            now=now,
            today=today,
            scopes=frozenset({pipeline.SEND_SCOPE}),
            body={
                "message_type": send.message_type,
                "recipient": send.recipient,
                "subject": send.subject,
                "payload": send.payload,
            },
        )
        exchange.message_type = send.message_type
        exchange.steps_run.extend(sender.checked)
        send.exchange = exchange
        return exchange

    def prepare(
        self,
        ctx: pipeline.PipelineContext,
        sender: Sender,
        sends: list[CaseSend],
        fsc_transaction_id: str,
        now: datetime,
        today: date,
        *,
        after_resolve: Callable[[list[CaseSend]], None] | None = None,
        skip: Callable[[CaseSend, Refusal], bool] | None = None,
    ) -> list[CaseSend]:
        """Run steps 6 to the minimisation for every send; return the sends that passed.

        First every recipient is resolved (``after_resolve`` may then refuse duplicates),
        then the other steps run per send. The first send gets ``fsc_transaction_id``, the
        others fresh UUIDv7s. A refusal raises :class:`BatchRefused`, unless ``skip`` says to
        leave that one send out (a suspended participant of an agreement, design 2.5)."""
        for index, send in enumerate(sends):
            tid = fsc_transaction_id if index == 0 and fsc_transaction_id else transaction.new()
            self.exchange(sender, send, tid, now, today)
        passed: list[CaseSend] = []
        for send in sends:
            if self._run(ctx, send, RESOLVE, skip):
                passed.append(send)
        if after_resolve is not None:
            after_resolve(passed)
        checked: list[CaseSend] = []
        for send in passed:
            if self._run(ctx, send, CHECK, skip):
                checked.append(send)
        return checked

    @staticmethod
    def _run(ctx, send: CaseSend, steps, skip) -> bool:
        exchange = send.exchange
        try:
            for name, step in steps:
                step(exchange, ctx)
                exchange.steps_run.append(name)
        except Refusal as refusal:
            if skip is not None and skip(send, refusal):
                return False
            raise BatchRefused(refusal, send.key, exchange) from None
        return True

    def store(
        self,
        session: Session,
        sends: list[CaseSend],
        case_id: str,
        actor: tuple[str, str | None] | None = None,
    ) -> list[Stored]:
        """Store every prepared send with its ``exchange.send`` event (``case_id`` set), the
        binding of its transaction id and the observer's record, in ``session``."""
        stored = []
        for send in sends:
            exchange = send.exchange
            message_id = str(uuid.uuid4())
            minimised = add_gateway_fields(exchange.minimised, send.gateway_fields)
            exchange.minimised = minimised
            row = new_message(exchange)
            event = message_event(
                "exchange.send",
                message_id,
                row,
                actor=actor or (exchange.sender.oin, exchange.sender_client_id),
                sender=exchange.sender.oin,
                recipient=exchange.recipient.oin,
                fields_forwarded=list(minimised.fields_forwarded),
                fields_dropped=list(minimised.fields_dropped),
                fields_generalised=list(minimised.fields_generalised),
                steps=pipeline.steps(exchange, stored=True),
                case_id=case_id,
                **pipeline.subject_naming(exchange, accepted=True),
            )
            receipt = self.exchanges.audit.append(session, event, exchange.now)
            correlation.claim(
                session,
                exchange.sender.id,
                exchange.fsc_transaction_id,
                exchange.recipient.id,
                exchange.now,
            )
            content = {"subject": exchange.delivered_subject, "payload": minimised.payload}
            insert_message(session, self.exchanges.sealer, message_id, row, content, exchange.now)
            self.exchanges.observer.accepted(session, accepted_send(exchange, message_id))
            stored.append(Stored(message_id, exchange, receipt))
        return stored

    @staticmethod
    def count(sends: list[CaseSend], decision: str = "allowed", code: str = "none") -> None:
        """The exchange metric, as a send counts it."""
        for send in sends:
            count_send(send.exchange, decision, code)
