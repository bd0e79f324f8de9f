"""The cases API over plain Python (design sections 2, 3, 4 and 7).

:class:`CaseService` opens a case (a consultation's invitations, an exemption's advice
requests), lists and shows the caller's own participations, and carries the kind's actions
(:class:`~gateway.pact.consultation.ConsultationActions`,
:class:`~gateway.pact.exemption.ExemptionActions`). HTTP handlers (``gateway.pact.views``)
call it and render what it returns; a refusal is a :class:`~gateway.problems.GatewayError`
the one problem table answers.

Every refusal of a case action is audited once, here (:meth:`CaseService.deny`), as the
action's denied event: the scope, the body and the ``Idempotency-Key`` are checked with the
pipeline's own step functions, the schema by ``schemas.cases``, every message by the
pipeline's steps through :class:`~gateway.pact.batch.Batch`. A refused opening names no
recipient, so no would-be invitee ever reads of it (API.md section 13 rule 2); a refusal
about a case names the child (its audit pseudonym) and the case (the unhashed index) only
when the caller holds a reference to it.

Open questions, the design's defaults taken here: OPEN-5 (who convenes) is the route table's
(only ``school -> *`` routes of ``case_invitation`` exist, so another convener gets 403
``route_not_allowed`` from the pipeline's route step); OPEN-8 and OPEN-11 (BSN or pseudonym
to leerplicht and the GGD) are the routes' ``identity`` too. A case names the child by BSN or
by the convener's own pseudonym only: a polymorphic proof cannot be replayed for the messages
that follow the opening (422 at ``subject``).

Order of checks (section 7): token, scope, body (type, size, JSON, transaction id),
``Idempotency-Key`` (only on open), the body's schema (422), the case ref (404), the caller's
role (403 ``case_action_not_allowed``), the case's state (409), then the action's own checks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.address import is_role_address
from schemas.cases import load_case_open
from schemas.errors import SchemaValidationError
from schemas.vocabulary import CASE_KINDS, CASE_STATUSES

from ..audit.log import AuditEvent, AuditLog, AuditReceipt, rfc3339
from ..clock import Clock, local_date
from ..exchange import correlation, idempotency, pipeline
from ..exchange.errors import Refusal, ValidationFailed
from ..exchange.service import ExchangeService
from ..monitoring.facts import FactRecorder
from ..paging import Cursors
from ..problems import GatewayError, InvalidParameter
from ..sealing import Sealer
from ..storage.database import Database
from . import cases as stored
from .batch import Batch, BatchRefused, CaseSend, Sender
from .cases import Details, Org
from .consultation import ConsultationActions
from .disclosures import Disclosure, Party, disclose, pairs
from .errors import CaseNotFound
from .exemption import ExemptionActions
from .models import PactCase, PactParticipant
from .refs import looks_like_case_ref, new_case_ref

OPEN, READ = "case.open", "case.read"
CURSORS = Cursors("c")
"""Cursors of ``GET /api/v1/cases`` (the participation's row id, newest first)."""

KINDS = {
    # kind: (member of the entries, message type, participant role, first status)
    "consultation": ("invite", "case_invitation", "invitee", "open"),
    "exemption_advice": ("advisers", "exemption_advice_request", "adviser", "requested"),
}


@dataclass(frozen=True)
class Known:
    """What a refusal's event names of a case the caller holds a ref to (plain values: the
    session that read them is gone by the time the refusal is audited)."""

    id: str
    purpose: str
    consent_id: str | None
    subject_ref: str


@dataclass
class Attempt:
    """What a refusal's audit event may say about the case the caller acted on."""

    case: Known | None = None
    subject_ref: str | None = None
    purpose: str | None = None
    extra: dict = field(default_factory=dict)


class CaseService(ConsultationActions, ExemptionActions):
    def __init__(
        self,
        db: Database,
        exchanges: ExchangeService,
        audit: AuditLog,
        sealer: Sealer,
        clock: Clock,
        timezone: str = "Europe/Amsterdam",
        facts: FactRecorder | None = None,
    ) -> None:
        self.db = db
        self.exchanges = exchanges
        self.batch = Batch(exchanges)
        self.audit = audit
        self.sealer = sealer
        self.clock = clock
        self.timezone = timezone
        self.facts = facts or FactRecorder()

    # refusals ----------------------------------------------------------------------------
    def deny(
        self,
        action: str,
        caller,
        code: str,
        fsc_transaction_id: str | None,
        attempt: Attempt | None = None,
    ) -> None:
        """Write one denied ``action`` by ``caller`` (an OAuth caller, never an anonymous or
        bad-token one: those are refused before any view runs)."""
        attempt = attempt or Attempt()
        case = attempt.case
        event = AuditEvent(
            action=action,
            decision="denied",
            reason=code,
            actor_org=caller.org_oin,
            actor_client_id=caller.client_id,
            sender=caller.org_oin,
            purpose=attempt.purpose or (case.purpose if case is not None else None),
            consent_id=case.consent_id if case is not None else None,
            subject_ref=attempt.subject_ref or (case.subject_ref if case is not None else None),
            fsc_transaction_id=fsc_transaction_id,
            case_id=case.id if case is not None else None,
            **attempt.extra,
        )
        with self.db.write_session() as session:
            self.audit.append(session, event, self.clock())

    @contextmanager
    def refusals(self, action: str, caller, fsc: str | None) -> Iterator[Attempt]:
        """Audit a problem raised in the block as a denied ``action`` (once), then raise it."""
        attempt = Attempt()
        try:
            yield attempt
        except GatewayError as error:
            self.deny(action, caller, error.code, fsc, attempt)
            raise

    # helpers shared by the kinds ---------------------------------------------------------------
    def today(self, now: datetime):
        return local_date(now, self.timezone)

    @staticmethod
    def sender_of(caller) -> pipeline.OrgRef:
        return pipeline.OrgRef(
            caller.org_id, caller.org_oin, caller.org_type, caller.org_name, "active"
        )

    @staticmethod
    def own(session: Session, caller, case_ref: str, attempt: Attempt):
        """The caller's case and participation for ``case_ref`` (else 404, the same answer
        for every ref the caller does not hold)."""
        found = (
            stored.find_own(session, caller.org_id, case_ref)
            if looks_like_case_ref(case_ref)
            else None
        )
        if found is None:
            raise CaseNotFound("No case with this reference.")
        case = found[0]
        attempt.case = Known(case.id, case.purpose, case.consent_id, case.subject_ref)
        return found

    def event(
        self, action: str, caller, case: PactCase, now: datetime, fsc: str | None, **details
    ) -> AuditEvent:
        """An allowed event of a case action by ``caller`` about the case's child."""
        return AuditEvent(
            action=action,
            decision="allowed",
            actor_org=caller.org_oin,
            actor_client_id=caller.client_id,
            sender=details.pop("sender", caller.org_oin),
            purpose=case.purpose,
            legal_basis=details.pop("legal_basis", None),
            consent_id=case.consent_id,
            subject_ref=case.subject_ref,
            fsc_transaction_id=fsc,
            case_id=case.id,
            **details,
        )

    # opening ---------------------------------------------------------------------------------
    def open(
        self, caller, read_body: Callable[[], object], key_header: str | None, fsc: str
    ) -> dict:
        """``POST /api/v1/cases``: every invitee's (adviser's) message is checked by the
        pipeline's steps first, then the case, its participants, the messages, the events and
        the disclosures are stored in one transaction. One refusal refuses all, nothing is
        stored, and it is audited once as the denied ``case.open``."""
        now = self.clock()
        request = pipeline.Exchange(
            sender=self.sender_of(caller),
            sender_client_id=caller.client_id,
            fsc_transaction_id=fsc,
            now=now,
            today=self.today(now),
            scopes=frozenset(caller.scopes),
            key_header=key_header,
        )
        sends: list[CaseSend] = []
        try:
            with self.db.session() as session:
                ctx = self.batch.context(session)
                ctx.read_body = read_body
                for name, step in pipeline.STEPS[:3]:  # scope, body, idempotency (once)
                    step(request, ctx)
                    if request.replay is not None:
                        return request.replay
                    request.steps_run.append(name)
                body = _load_open(request.body)
                member, message_type, _, _ = KINDS[body["kind"]]
                sends = [
                    CaseSend(f"{member}.{n}", message_type, entry, body["subject"], body["payload"])
                    for n, entry in enumerate(body[member])
                ]
                sender = Sender(request.sender, caller.client_id, ("scope", "body", "idempotency"))
                self.batch.prepare(
                    ctx,
                    sender,
                    sends,
                    fsc,
                    now,
                    request.today,
                    after_resolve=lambda resolved: _check_parties(body["kind"], caller, resolved),
                )
            return self._store_open(caller, request, body, sends)
        except Refusal as refusal:
            self._refused_open(caller, request, refusal, sends)
            raise

    def _store_open(self, caller, request, body: dict, sends: list[CaseSend]) -> dict:
        try:
            with self.db.write_session() as session:
                return self._write_open(session, caller, request, body, sends)
        except IntegrityError:
            # a concurrent request stored first: its idempotency key, or its transaction id
            with self.db.session() as session:
                answer = idempotency.stored_answer(
                    session,
                    caller.org_id,
                    request.idempotency_key,
                    request.request_hash,
                    self.clock(),
                )
                bound = correlation.bound_recipient(
                    session, caller.org_id, request.fsc_transaction_id
                )
            if answer is not None:
                return answer
            if bound is not None:
                raise correlation.reused() from None
            raise

    def _write_open(self, session: Session, caller, request, body: dict, sends) -> dict:
        now = request.now
        kind = body["kind"]
        _, _, role, status = KINDS[kind]
        first = sends[0].exchange
        case = PactCase(
            id=str(uuid.uuid4()),
            kind=kind,
            status=status,
            subject_ref=first.subject_ref,
            convener_org_id=caller.org_id,
            consent_id=first.consent_id,
            purpose=first.route.purpose,
            created_at=now,
            updated_at=now,
        )
        payload = first.payload
        if kind == "consultation":
            case.meeting_date = _date(payload["meeting"]["date"])
        else:
            case.requested_on = _date(payload["requested_on"])
        details = Details(
            subject=body["subject"],
            subjects={str(s.exchange.recipient.id): s.exchange.delivered_subject for s in sends},
            meeting=payload.get("meeting") if kind == "consultation" else None,
        )
        details.seal_into(self.sealer, case)
        session.add(case)
        convener = PactParticipant(
            case_id=case.id,
            org_id=caller.org_id,
            role="convener",
            case_ref=new_case_ref(),
            status="convener",
            joined_at=now,
        )
        invitees = [
            PactParticipant(
                case_id=case.id,
                org_id=s.exchange.recipient.id,
                role=role,
                case_ref=new_case_ref(),
                status="invited",
                joined_at=now,
                resolved_from=json.dumps(s.recipient) if is_role_address(s.recipient) else None,
            )
            for s in sends
        ]
        session.add_all([convener, *invitees])
        session.flush()
        named = [Org(caller.org_id, caller.org_oin, caller.org_name, caller.org_type, "active")]
        named += [Org(*_org_fields(s.exchange.recipient)) for s in sends]
        for send, participant in zip(sends, invitees, strict=True):
            send.gateway_fields = {"case_ref": participant.case_ref}
            if kind == "consultation":
                send.gateway_fields["participants"] = [org.named() for org in named]
        receipt = self.audit.append(
            session,
            self.event(
                OPEN,
                caller,
                case,
                now,
                request.fsc_transaction_id,
                legal_basis=first.route.legal_basis(first.consent_id),
                steps=tuple(request.steps_run),
                **_naming_of_sender(first),
            ),
            now,
        )
        kept = self.batch.store(session, sends, case.id)
        for participant, message in zip(invitees, kept, strict=True):
            participant.invitation_exchange_id = message.message_id
        if kind == "consultation":
            parties = [Party(org.id, org.oin) for org in named]
            disclose(
                session,
                self.audit,
                Disclosure(
                    case.id,
                    case.purpose,
                    first.route.legal_basis(first.consent_id),
                    case.consent_id,
                    case.subject_ref,
                    caller.org_oin,
                    caller.client_id,
                    # no transaction id: a disclosure is read by both organisations of its
                    # pair, and the caller's id went to the first invitee only (rule 1)
                    None,
                ),
                pairs(parties[1:], parties),
                now,
            )
        answer = self._opened(case, convener, invitees, named[1:], kept, receipt)
        idempotency.remember(
            session, caller.org_id, request.idempotency_key, request.request_hash, answer, now
        )
        Batch.count(sends)
        return answer

    @staticmethod
    def _opened(case, convener, invitees, orgs, kept, receipt: AuditReceipt) -> dict:
        return {
            "case_ref": convener.case_ref,
            "kind": case.kind,
            "status": case.status,
            "created_at": rfc3339(case.created_at),
            "participants": [
                org.named()
                | {
                    "status": participant.status,
                    "exchange_id": message.message_id,
                    "resolved_from": stored.resolved_from(participant),
                }
                for participant, org, message in zip(invitees, orgs, kept, strict=True)
            ],
            "audit": {"seq": receipt.seq, "hash": receipt.hash},
        }

    def _refused_open(self, caller, request, refusal: Refusal, sends: list[CaseSend]) -> None:
        """The one denied ``case.open``: no recipient (no would-be invitee reads it); the
        child's audit pseudonym when the subject was valid for the caller."""
        subject_ref = pipeline.best_effort_subject_ref(request, self.exchanges.subjects)
        route = None
        if isinstance(refusal, BatchRefused):
            subject_ref = refusal.send.subject_ref or subject_ref
            route = refusal.send.route
        attempt = Attempt(
            subject_ref=subject_ref,
            purpose=route.purpose if route else None,
            extra={"steps": tuple(request.steps_run)},
        )
        self.deny(OPEN, caller, refusal.code, request.fsc_transaction_id, attempt)
        Batch.count([s for s in sends if s.exchange is not None], "denied", refusal.code)

    # reading ---------------------------------------------------------------------------------
    def list(self, caller, kind: str | None, status: str | None, cursor, limit: int) -> dict:
        """``GET /api/v1/cases``: the caller's participations, newest first."""
        if kind is not None and kind not in CASE_KINDS:
            raise InvalidParameter(
                "kind is not a case kind.", errors={"kind": [f"Must be one of {CASE_KINDS}."]}
            )
        if status is not None and status not in CASE_STATUSES:
            raise InvalidParameter(
                "status is not a case status.",
                errors={"status": [f"Must be one of {CASE_STATUSES}."]},
            )
        before = CURSORS.decode(cursor)
        query = (
            select(PactCase, PactParticipant)
            .join(PactParticipant, PactParticipant.case_id == PactCase.id)
            .where(PactParticipant.org_id == caller.org_id)
        )
        if before:
            query = query.where(PactParticipant.id < before)
        if kind is not None:
            query = query.where(PactCase.kind == kind)
        if status is not None:
            query = query.where(_visible_status_is(status))
        with self.db.session() as session:
            rows = session.execute(query.order_by(PactParticipant.id.desc()).limit(limit + 1)).all()
            more, rows = len(rows) > limit, rows[:limit]
            return {
                "items": [stored.summary(case, own) for case, own in rows],
                "next_cursor": CURSORS.encode(rows[-1][1].id) if more and rows else None,
            }

    def get(self, caller, case_ref: str, fsc: str | None) -> dict:
        """``GET /api/v1/cases/{case_ref}``: the view of the caller's role; a read of a
        child's record, audited like ``consent.read``."""
        now = self.clock()
        with self.refusals(READ, caller, fsc) as attempt:
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                case, own = self.own(session, caller, case_ref, attempt)
                answer = stored.view(session, self.sealer, case, own)
                self.audit.append(session, self.event(READ, caller, case, now, fsc), now)
                return answer


def _load_open(body: object) -> dict:
    try:
        loaded = load_case_open(body)
    except SchemaValidationError as exc:
        raise ValidationFailed(exc.errors) from None
    if "bsn" not in loaded["subject"] and "pseudonym" not in loaded["subject"]:
        # the messages after the opening are sent on the convener's behalf without a subject
        # in their request; a polymorphic proof cannot be replayed for them
        raise ValidationFailed(
            {"subject": ["A case names the child by bsn or by your own pseudonym."]}
        )
    return loaded


def _check_parties(kind: str, caller, sends: list[CaseSend]) -> None:
    """After resolution: nobody twice, not the convener itself; an exemption asks exactly one
    ggd and at most one swv (design section 7, 422 ``validation_failed``)."""
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for send in sends:
        org = send.exchange.recipient
        if org.id == caller.org_id:
            errors[send.key] = ["You cannot invite your own organisation."]
        elif org.id in seen:
            errors[send.key] = ["This organisation is listed twice."]
        seen.add(org.id)
    if kind == "exemption_advice" and not errors:
        types = [send.exchange.recipient.type for send in sends]
        if types.count("ggd") != 1:
            errors["advisers"] = ["Exactly one adviser must be a ggd."]
        for send in sends:
            if send.exchange.recipient.type == "swv" and types.count("swv") > 1:
                errors[send.key] = ["At most one adviser may be a swv."]
    if errors:
        raise ValidationFailed(errors)


def _visible_status_is(status: str):
    """The filter on the status as each role sees it (an adviser sees requested/closed)."""
    adviser = PactParticipant.role == "adviser"
    if status == "requested":
        return or_(
            and_(adviser, PactCase.status.in_(("requested", "advised"))),
            and_(~adviser, PactCase.status == "requested"),
        )
    if status == "closed":
        return or_(
            and_(adviser, PactCase.status.in_(("decided", "closed"))),
            and_(~adviser, PactCase.status == "closed"),
        )
    return and_(~adviser, PactCase.status == status)


def _naming_of_sender(exchange: pipeline.Exchange) -> dict:
    """Only the convener named the child in the case's own event (the recipients' naming is
    in each message's ``exchange.send``)."""
    return pipeline.subject_naming(exchange, accepted=False)


def _org_fields(ref: pipeline.OrgRef) -> tuple:
    return (ref.id, ref.oin, ref.name, ref.type, ref.status)


def _date(value):
    from datetime import date

    return value if isinstance(value, date) else date.fromisoformat(value)
