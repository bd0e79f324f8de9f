"""The team around the child (design section 3): an invitee's answer, the agreements, an
agreement done, closing.

Each message these actions make is an ordinary exchange sent through the pipeline's steps
(:class:`~gateway.pact.batch.Batch`): the invitee's ``case_response`` to the convener (a reply
to the invitation it received, so a party named by type in the consent may send it, rule 3),
and the convener's ``case_agreements`` to every accepted participant. Both name the child as
their sender knows it: the invitee by the subject it was delivered, the convener by the
subject it opened the case with (:class:`~gateway.pact.cases.Details`).

A consent that ended is found by the pipeline's legal-basis step at the moment of the action;
the case is then closed (``close_reason`` ``consent_withdrawn``/``consent_expired``, in a
transaction of its own, never rewriting what happened before) and the action refused with the
consent's 403; the next action on it gets 409 ``case_closed``.

Marking an agreement done sends no message (OPEN-7, the design's default): the convener and
the regiehouder see it on their next read of the case.

A suspended participant (design 2.5) is left out of the agreements: the 201 lists it in
``not_delivered`` and the usual denied ``exchange.send`` is written for it, visible to the
convener and the operator. Nothing is sent on reactivation (OPEN-6, the design's default:
the convener records the agreements again).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from schemas.cases import (
    load_case_accept,
    load_case_agreements,
    load_case_close,
    load_case_decline,
)
from schemas.errors import SchemaValidationError
from schemas.vocabulary import AGREEMENT_PARTY_ROLES, CONVENER_PARTY

from ..audit.log import AuditEvent, AuditLog
from ..exchange.errors import Refusal, ValidationFailed
from . import cases as stored
from .batch import BatchRefused, CaseSend, Sender
from .cases import Details
from .errors import (
    CaseActionNotAllowed,
    CaseAlreadyAnswered,
    CaseClosed,
    CaseNotFound,
    UnknownParticipant,
)
from .models import PactAgreement, PactCase, PactParticipant

ACCEPT, DECLINE = "case.accept", "case.decline"
AGREE, DONE, CLOSE = "case.agree", "case.agreement_done", "case.close"
CONSENT_ENDED = {"consent_withdrawn": "consent_withdrawn", "consent_expired": "consent_expired"}
"""A consent refusal that closes the case, and the ``close_reason`` it gets."""


def _loaded(loader, *args) -> dict:
    try:
        return loader(*args)
    except SchemaValidationError as exc:
        raise ValidationFailed(exc.errors) from None


class ConsultationActions:
    """Mixed into :class:`~gateway.pact.service.CaseService` (its ``db``, ``batch``, ...)."""

    # answering the invitation ------------------------------------------------------------------
    def accept(self, caller, case_ref: str, body: dict, fsc: str) -> dict:
        return self._respond(ACCEPT, caller, case_ref, body, fsc)

    def decline(self, caller, case_ref: str, body: dict, fsc: str) -> dict:
        return self._respond(DECLINE, caller, case_ref, body, fsc)

    def _respond(self, action: str, caller, case_ref: str, body: dict, fsc: str) -> dict:
        response = "accepted" if action == ACCEPT else "declined"
        now = self.clock()
        with self.refusals(action, caller, fsc) as attempt:
            loaded = _loaded(load_case_accept if action == ACCEPT else load_case_decline, body)
            with self.db.session() as session:
                case, own = self.own(session, caller, case_ref, attempt)
                _invitee_of_open_case(case, own)
                if own.status == response:
                    return _answered(own)
                if own.status != "invited":
                    raise CaseAlreadyAnswered("Your organisation already answered otherwise.")
                convener = _convener(session, case)
                details = Details.of(self.sealer, case)
                payload = {"in_reply_to": own.invitation_exchange_id, "response": response}
                if action == DECLINE:
                    payload["decline_reason"] = loaded["reason"]
                if loaded.get("contact"):
                    payload["contact"] = loaded["contact"]
                send = CaseSend(
                    None,
                    "case_response",
                    convener.oin,
                    details.subjects[str(caller.org_id)],
                    payload,
                    gateway_fields={"case_ref": convener.case_ref},
                )
                self._prepare(
                    session,
                    case,
                    Sender(self.sender_of(caller), caller.client_id),
                    [send],
                    fsc,
                    now,
                )
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                case, own = self.own(session, caller, case_ref, attempt)
                _invitee_of_open_case(case, own)
                if own.status == response:
                    return _answered(own)
                if own.status != "invited":
                    raise CaseAlreadyAnswered("Your organisation already answered otherwise.")
                kept = self.batch.store(session, [send], case.id)
                own.status = response
                own.responded_at = now
                own.decline_reason = loaded.get("reason")
                own.answer_exchange_id = kept[0].message_id
                case.updated_at = now
                self.audit.append(
                    session,
                    self.event(
                        action,
                        caller,
                        case,
                        now,
                        fsc,
                        exchange_id=own.invitation_exchange_id,
                        message_type="case_invitation",
                        recipient=convener.oin,
                        reason=own.decline_reason,
                    ),
                    now,
                )
                if response == "accepted" and case.status == "agreed":
                    self._late_agreements(session, case, own, now)
                self.batch.count([send])
                return _answered(own)

    def _late_agreements(self, session: Session, case: PactCase, own, now: datetime) -> None:
        """A late accept gets the current agreements at once, as its own ``case_agreements``
        from the convener (design 3.2). A refusal here (the consent ended since) leaves the
        accept standing and sends nothing: the convener sees the participant accepted."""
        everyone = stored.participants(session, case.id)
        convener = next(p for p in everyone if p.role == "convener")
        orgs = stored.organisations(
            session,
            {p.org_id for p in everyone}
            | {a.party_org_id for a in stored.agreements(session, case.id) if a.party_org_id}
            | ({case.regie_org_id} if case.regie_org_id else set()),
        )
        payload = _agreements_payload(
            orgs[case.regie_org_id],
            [
                {
                    "no": a.no,
                    "party": stored.party_of(a, orgs),
                    "action": a.action,
                    "due_date": a.due_date.isoformat(),
                }
                for a in stored.agreements(session, case.id)
            ],
            case.next_review_date.isoformat(),
        )
        org = orgs[convener.org_id]
        sender = Sender(self.sender_of_org(org), None, ("scope", "body"))
        send = CaseSend(
            None,
            "case_agreements",
            orgs[own.org_id].oin,
            Details.of(self.sealer, case).subject,
            payload,
            gateway_fields={"case_ref": own.case_ref},
        )
        try:
            self.batch.prepare(
                self.batch.context(session), sender, [send], _fresh(), now, self.today(now)
            )
        except Refusal:
            return
        self.batch.store(session, [send], case.id)
        self.batch.count([send])

    @staticmethod
    def sender_of_org(org):
        from ..exchange import pipeline

        return pipeline.OrgRef(org.id, org.oin, org.type, org.name, org.status)

    def _prepare(self, session, case, sender, sends, fsc, now, skip=None):
        """The pipeline's steps for the sends; a consent that ended closes the case first."""
        try:
            return self.batch.prepare(
                self.batch.context(session), sender, sends, fsc, now, self.today(now), skip=skip
            )
        except BatchRefused as refused:
            reason = CONSENT_ENDED.get(refused.code)
            if reason is not None:
                self._close_for_consent(case.id, reason, now)
            raise

    def _close_for_consent(self, case_id: str, reason: str, now: datetime) -> None:
        with self.db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            case = session.get(PactCase, case_id)
            if case is None or case.status == "closed":
                return
            case.status, case.closed_at, case.close_reason, case.updated_at = (
                "closed",
                now,
                reason,
                now,
            )
            self.audit.append(
                session,
                AuditEvent(
                    action=CLOSE,
                    decision="allowed",
                    reason=reason,
                    purpose=case.purpose,
                    consent_id=case.consent_id,
                    subject_ref=case.subject_ref,
                    case_id=case.id,
                ),
                now,
            )

    # the agreements ------------------------------------------------------------------------------
    def agreements(self, caller, case_ref: str, body: dict, fsc: str) -> dict:
        """``POST /api/v1/cases/{case_ref}/agreements``: record (or replace) the agreements and
        send them to every accepted participant."""
        now = self.clock()
        today = self.today(now)
        with self.refusals(AGREE, caller, fsc) as attempt:
            loaded = _loaded(load_case_agreements, body, today)
            with self.db.session() as session:
                case, own = self.own(session, caller, case_ref, attempt)
                _convener_of_open(case, own, "consultation")
                everyone = stored.participants(session, case.id)
                accepted = [p for p in everyone if p.role == "invitee" and p.status == "accepted"]
                orgs = stored.organisations(session, {p.org_id for p in everyone})
                regie, rows, payload = _resolve_agreements(loaded, own, accepted, orgs)
                details = Details.of(self.sealer, case)
                sends = [
                    CaseSend(
                        None,
                        "case_agreements",
                        orgs[p.org_id].oin,
                        details.subject,
                        payload,
                        gateway_fields={"case_ref": p.case_ref},
                    )
                    for p in accepted
                ]
                skipped: list[CaseSend] = []

                def suspended(send: CaseSend, refusal: Refusal) -> bool:
                    if refusal.code == "recipient_suspended":
                        skipped.append(send)
                        return True
                    return False

                sendable = (
                    self._prepare(
                        session,
                        case,
                        Sender(self.sender_of(caller), caller.client_id),
                        sends,
                        fsc,
                        now,
                        skip=suspended,
                    )
                    if sends
                    else []
                )
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                case, own = self.own(session, caller, case_ref, attempt)
                _convener_of_open(case, own, "consultation")
                session.execute(delete(PactAgreement).where(PactAgreement.case_id == case.id))
                for row in rows:
                    session.add(PactAgreement(case_id=case.id, status="open", **row))
                case.status = "agreed"
                case.regie_org_id = regie
                case.next_review_date = _day(loaded["next_review_date"])
                case.updated_at = now
                receipt = self.audit.append(session, self.event(AGREE, caller, case, now, fsc), now)
                kept = self.batch.store(session, sendable, case.id)
                for send in skipped:
                    self._not_delivered(session, caller, case, send, now)
                self.batch.count(sendable)
                self.batch.count(skipped, "denied", "recipient_suspended")
                return {
                    "case_ref": own.case_ref,
                    "status": "agreed",
                    "agreements": payload["agreements"],
                    "delivered": [
                        {"oin": k.exchange.recipient.oin, "exchange_id": k.message_id} for k in kept
                    ],
                    "not_delivered": [
                        {
                            "participant": orgs[s.exchange.recipient.id].named(),
                            "reason": "recipient_suspended",
                        }
                        for s in skipped
                    ],
                    "audit": {"seq": receipt.seq, "hash": receipt.hash},
                }

    def _not_delivered(self, session, caller, case, send: CaseSend, now) -> None:
        """The usual denied ``exchange.send`` for a suspended participant (design 2.5)."""
        exchange = send.exchange
        event = AuditEvent(
            action="exchange.send",
            decision="denied",
            reason="recipient_suspended",
            actor_org=caller.org_oin,
            actor_client_id=caller.client_id,
            message_type=send.message_type,
            sender=caller.org_oin,
            recipient=exchange.recipient.oin,
            purpose=case.purpose,
            consent_id=case.consent_id,
            subject_ref=case.subject_ref,
            fsc_transaction_id=exchange.fsc_transaction_id,
            steps=tuple(exchange.steps_run),
            case_id=case.id,
        )
        self.audit.append(session, event, now)

    def done(self, caller, case_ref: str, no: str, fsc: str) -> dict:
        """``POST .../agreements/{no}/done``: the agreement's party marks it done."""
        now = self.clock()
        with self.refusals(DONE, caller, fsc) as attempt:
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                case, own = self.own(session, caller, case_ref, attempt)
                if case.status == "closed":
                    raise CaseClosed("The case is closed.")
                agreement = (
                    session.scalars(
                        select(PactAgreement).where(
                            PactAgreement.case_id == case.id,
                            PactAgreement.no == int(no),
                            PactAgreement.party_org_id == caller.org_id,
                            PactAgreement.status != "cancelled",
                        )
                    ).first()
                    if no.isascii() and no.isdigit() and len(no) <= 3
                    else None
                )
                if agreement is None or (own.role == "invitee" and own.status != "accepted"):
                    raise CaseNotFound("No agreement with this number is yours.")
                if agreement.status != "done":
                    agreement.status, agreement.done_at = "done", now
                    case.updated_at = now
                    self.audit.append(session, self.event(DONE, caller, case, now, fsc), now)
                return {
                    "case_ref": own.case_ref,
                    "no": agreement.no,
                    "status": "done",
                    "done_at": stored.time(agreement.done_at),
                }

    def close(self, caller, case_ref: str, body: dict, fsc: str) -> dict:
        """``POST .../close``: the convener closes a consultation (repeat: the same answer)."""
        now = self.clock()
        with self.refusals(CLOSE, caller, fsc) as attempt:
            loaded = _loaded(load_case_close, body)
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                case, own = self.own(session, caller, case_ref, attempt)
                if own.role != "convener" or case.kind != "consultation":
                    raise CaseActionNotAllowed("Only the convener closes a consultation.")
                if case.status != "closed":
                    case.status, case.closed_at, case.updated_at = "closed", now, now
                    case.close_reason = loaded["reason"]
                    self.audit.append(
                        session,
                        self.event(CLOSE, caller, case, now, fsc, reason=case.close_reason),
                        now,
                    )
                return {
                    "case_ref": own.case_ref,
                    "status": "closed",
                    "closed_at": stored.time(case.closed_at),
                    "close_reason": case.close_reason,
                }


def _invitee_of_open_case(case: PactCase, own: PactParticipant) -> None:
    if own.role != "invitee":
        raise CaseActionNotAllowed("Only an invited organisation answers an invitation.")
    if case.status == "closed":
        raise CaseClosed("The case is closed.")


def _convener_of_open(case: PactCase, own: PactParticipant, kind: str) -> None:
    if own.role != "convener" or case.kind != kind:
        raise CaseActionNotAllowed("Only the convener records this.")
    if case.status in ("closed", "decided"):
        raise CaseClosed("The case is closed.")


def _answered(own: PactParticipant) -> dict:
    return {
        "case_ref": own.case_ref,
        "status": own.status,
        "responded_at": stored.time(own.responded_at),
    }


class _Convener:
    def __init__(self, oin: str, case_ref: str) -> None:
        self.oin, self.case_ref = oin, case_ref


def _convener(session: Session, case: PactCase) -> _Convener:
    participant = next(p for p in stored.participants(session, case.id) if p.role == "convener")
    org = stored.organisations(session, {participant.org_id})[participant.org_id]
    return _Convener(org.oin, participant.case_ref)


def _resolve_agreements(loaded: dict, own, accepted, orgs) -> tuple[int, list[dict], dict]:
    """The regiehouder's id, the rows to store and the ``case_agreements`` payload; a party
    or regie that is neither the convener nor an accepted participant is 422
    ``unknown_participant`` (a declined or invited organisation is not a party)."""
    by_oin = {orgs[p.org_id].oin: orgs[p.org_id] for p in accepted}
    convener = orgs[own.org_id]
    by_oin[convener.oin] = convener
    errors: dict[str, list[str]] = {}
    regie = by_oin.get(loaded["regie"])
    if regie is None:
        errors["regie"] = ["Must be you or a participant that accepted."]
    rows, delivered = [], []
    for n, agreement in enumerate(loaded["agreements"]):
        party = agreement["party"]
        if party == CONVENER_PARTY:
            org = convener
        elif party in AGREEMENT_PARTY_ROLES:
            org = None
        else:
            org = by_oin.get(party)
            if org is None:
                errors[f"agreements.{n}.party"] = ["Not a participant that accepted."]
                continue
        rows.append(
            {
                "no": n + 1,
                "party_org_id": org.id if org else None,
                "party_role": "organisation" if org else party,
                "action": agreement["action"],
                "due_date": _day(agreement["due_date"]),
            }
        )
        delivered.append(
            {
                "no": n + 1,
                "party": org.named() if org else {"role": party},
                "action": agreement["action"],
                "due_date": _day(agreement["due_date"]).isoformat(),
            }
        )
    if errors:
        raise UnknownParticipant("The agreements name an unknown participant.", errors=errors)
    payload = _agreements_payload(regie, delivered, _day(loaded["next_review_date"]).isoformat())
    return regie.id, rows, payload


def _agreements_payload(regie, agreements: list[dict], next_review_date: str) -> dict:
    return {
        "regie": regie.named(),
        "agreements": agreements,
        "next_review_date": next_review_date,
    }


def _day(value) -> date:
    """A loaded date (the schemas give ``YYYY-MM-DD`` strings) as a ``date``."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _fresh() -> str:
    from .. import transaction

    return transaction.new()
